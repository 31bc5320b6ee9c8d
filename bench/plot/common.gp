# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Loaded by every figure of bench/plot/draw.sh: one terminal, one size, one
# palette.  draw.sh sets dir (its reshaped tables) and outdir.
set terminal pngcairo size 900,440 font ",10" noenhanced
set encoding utf8
set grid
set key outside right
set style fill solid 0.85 border -1
set linetype 1 lc rgb "#1f77b4" lw 2
set linetype 2 lc rgb "#d62728" lw 2
set linetype 3 lc rgb "#2ca02c" lw 2
set linetype 4 lc rgb "#ff7f0e" lw 2
set linetype 5 lc rgb "#9467bd" lw 2
set linetype 6 lc rgb "#8c564b" lw 2
set linetype 7 lc rgb "#e377c2" lw 2
set linetype 8 lc rgb "#17becf" lw 2
# a share in 0..1 as a percentage label: "0.25%", "13%", "100%"
pct(x) = x == 0 ? "0" : x < 0.1 ? sprintf("%.2g%%", 100 * x) : sprintf("%.0f%%", 100 * x)
# the power curves' grid of post-patch calls, 1000 * 2^i
calls_tics = '("1k" 1000, "2k" 2000, "4k" 4000, "8k" 8000, "16k" 16000, "32k" 32000, ' . \
	'"64k" 64000, "128k" 128000, "256k" 256000, "512k" 512000)'
