# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Detection power against post-patch calls, per p99 shift (tail-only: the
# slowest 3% of calls slower), one panel per latency shape; 1000 calls/s
# solid, 100 calls/s dashed.  The default policy, 1 s ticks, 400 runs a curve.
# In: dir/dp-SIGMA-SHIFT-RATE.dat (calls share, the calls past the bake's
# end drawn at its end), end (the bake's last calls at 1000/s).
load "common.gp"
set output outdir . "/detection-power.png"
set multiplot layout 1, 2 title "Share of runs reverted within N post-patch calls (tail-only p99 shift)"
set logscale x 2
set xrange [1000:real(end)]
eval "set xtics " . calls_tics
set xlabel "post-patch calls"
set ylabel "share of runs reverted"
set yrange [0:1.02]
set key inside center right
shifts = "1.25 1.5 2"
sigmas = "0.5 1"
do for [j = 1:2] {
	sg = word(sigmas, j)
	set title sprintf("lognormal sigma %s", sg == "1" ? "1.0" : sg)
	if (j == 2) { unset key }
	plot for [i = 1:3] sprintf("%s/dp-%s-%s-1000.dat", dir, sg, word(shifts, i)) using 1:2 \
		with steps lc i title sprintf("p99 x%s, 1000/s", word(shifts, i)), \
	     for [i = 1:3] sprintf("%s/dp-%s-%s-100.dat", dir, sg, word(shifts, i)) using 1:2 \
		with steps dt 2 lc i title sprintf("p99 x%s, 100/s", word(shifts, i)), \
	     0.95 with lines dt 3 lc rgb "black" title "95%"
}
unset multiplot
