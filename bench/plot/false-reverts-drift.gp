# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# The false-revert rate under drift in simulation (drift_sim.tsv): a harmless
# patch while the load steps, ramps or bursts, without and with the control,
# one panel per latency shape; the 1% budget as a line.
# In: dir/fd-SIGMA.dat (drift share_without share_with).
load "common.gp"
set output outdir . "/false-reverts-drift.png"
set multiplot layout 1, 2 title "False reverts under drift, simulated (400 harmless runs a bar, 1000 calls/s)"
set style data histograms
set style histogram clustered gap 1
set boxwidth 1
set grid noxtics
set xtics scale 0
set ylabel "share of runs reverted"
set format y "%g%%"
set yrange [0:115]
set key inside top right
sigmas = "0.5 1"
do for [j = 1:2] {
	sg = word(sigmas, j)
	f = sprintf("%s/fd-%s.dat", dir, sg)
	set title sprintf("lognormal sigma %s", sg == "1" ? "1.0" : sg)
	plot f using (100 * $2):xtic(1) lc 2 title "no control", \
	     "" using (100 * $3) lc 1 title "control", \
	     "" using ($0 - 1.0 / 6):(100 * $2):(pct($2)) with labels offset 0, 0.7 notitle, \
	     "" using ($0 + 1.0 / 6):(100 * $3):(pct($3)) with labels offset 0, 0.7 notitle, \
	     1 with lines dt 2 lc rgb "black" title "1% budget"
}
unset multiplot
