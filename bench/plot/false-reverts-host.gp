# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The false-revert rate on the host (drift.tsv): the demo service's harmless
# patch gated with and without the control, with a CPU hog in the bake and
# without one; the 1% budget as a line.
# In: dir/fh.dat ("case" share_without share_with "n/runs" "n/runs").
load "common.gp"
set output outdir . "/false-reverts-host.png"
set title "False reverts of the harmless patch on the host (bench/drift; reverted/runs on each bar)"
set style data histograms
set style histogram clustered gap 1
set boxwidth 1
set grid noxtics
set xtics scale 0
set ylabel "share of runs reverted"
set format y "%g%%"
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set key inside top right
plot dir . "/fh.dat" using (100 * $2):xtic(1) lc 2 title "no control", \
     "" using (100 * $3) lc 1 title "control (parse_request)", \
     "" using ($0 - 1.0 / 6):(100 * $2):(stringcolumn(4)) with labels offset 0, 0.7 notitle, \
     "" using ($0 + 1.0 / 6):(100 * $3):(stringcolumn(5)) with labels offset 0, 0.7 notitle, \
     1 with lines dt 2 lc rgb "black" title "1% budget"
