# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The stop-the-world pause of apply and revert against the target's thread
# count (p50 and p90), and the apply pause's parts as shares.
# In: dir/ap-apply.dat, dir/ap-revert.dat
#     (threads pause_p50 pause_p90 stop scan write resume, medians in µs).
load "common.gp"
set output outdir . "/apply-pause.png"
set multiplot layout 1, 2 title "patchgate apply/revert: the pause the target feels"
set title "pause against threads (goal: 1 ms at 64 threads)"
set logscale xy
set xlabel "threads in the target (workers + main)"
set ylabel "pause (µs)"
set xrange [1.5:350]
set key inside top left
set xtics (2, 9, 65, 257)
set label 1 "goal: 1 ms" at 65, 1000 point pt 3 ps 2 lc rgb "black" offset 1, -0.6 front
plot dir . "/ap-apply.dat" using 1:2 with linespoints pt 7 lc 1 title "apply p50", \
     "" using 1:3 with linespoints pt 6 dt 2 lc 1 title "apply p90", \
     dir . "/ap-revert.dat" using 1:2 with linespoints pt 7 lc 2 title "revert p50", \
     "" using 1:3 with linespoints pt 6 dt 2 lc 2 title "revert p90"
unset logscale
unset label 1
set title "where the apply pause goes (share of the parts' medians)"
set xlabel "threads"
set ylabel "share of the pause"
set yrange [0:100]
set format y "%g%%"
set xrange [*:*]
set xtics auto
set style data histograms
set style histogram rowstacked
set boxwidth 0.6
set key outside right
set grid noxtics
sum(a, b, c, d) = a + b + c + d
plot for [k = 4:7] dir . "/ap-apply.dat" \
	using (100 * column(k) / sum($4, $5, $6, $7)):xtic(1) lc (k - 3) \
	title word("stop scan write resume", k - 3)
unset multiplot
