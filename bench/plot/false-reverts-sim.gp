# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The false-revert rate of a harmless patch in simulation (detection.csv):
# on a stationary host per rate and tick and latency shape, and under
# contention bursts (sigma 0.5, 1000 calls/s); the 1% budget as a line.
# In: dir/fr-stat.dat ("cell" share_sigma0.5 share_sigma1.0),
#     dir/fr-burst.dat ("bursts" share).
load "common.gp"
set output outdir . "/false-reverts-sim.png"
set multiplot layout 1, 2 title "False reverts of a harmless patch, simulated (default policy)"
set style data histograms
set style histogram clustered gap 1
set boxwidth 1
set grid noxtics
set ylabel "share of runs reverted"
set format y "%g%%"
set key inside top left
set xtics scale 0
set bmargin 5
set title "stationary host, 1000 runs a bar"
set yrange [0:1.3]
plot dir . "/fr-stat.dat" using (100 * $2):xtic(1) lc 1 title "sigma 0.5", \
     "" using (100 * $3) lc 2 title "sigma 1.0", \
     "" using ($0 - 1.0 / 6):(100 * $2):(pct($2)) with labels offset 0, 0.7 notitle, \
     "" using ($0 + 1.0 / 6):(100 * $3):(pct($3)) with labels offset 0, 0.7 notitle, \
     1 with lines dt 2 lc rgb "black" title "1% budget"
set title "under contention bursts, sigma 0.5, 1000/s, 1000 runs a bar"
set xlabel "bursts a second, share of calls delayed, mean delay" offset 0, -1
set yrange [0:100]
set boxwidth 0.6
plot dir . "/fr-burst.dat" using (100 * $2):xtic(1) lc 4 notitle, \
     "" using 0:(100 * $2):(pct($2)) with labels offset 0, 0.7 notitle, \
     1 with lines dt 2 lc rgb "black" title "1% budget"
unset multiplot
