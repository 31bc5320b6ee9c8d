# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Power under drift (power.tsv, the "Drift in simulation" cells): share of
# runs reverted within N post-patch calls for a 25% tail-only p99 shift, per
# drift, without (dashed) and with (solid) the control; then larger baselines.
# In: dir/LABEL-SIGMA.dat (calls share), end (the bake's last calls).
load "common.gp"
set logscale x 2
set xrange [1000:real(end)]
eval "set xtics " . calls_tics
set xlabel "post-patch calls"
set ylabel "share of runs reverted"
set yrange [0:1.02]
dr = "none step2 ramp2 bursts"
do for [sg in "0.5 1"] {
	set output sprintf("%s/power-sigma%s.png", outdir, sg)
	set title sprintf("25%% tail-only p99 shift, lognormal sigma %s, 1000 calls/s, default policy", \
		sg == "1" ? "1.0" : sg)
	plot for [i = 1:4] sprintf("%s/%s_none-%s.dat", dir, word(dr, i), sg) using 1:2 \
		with steps dt 2 lc i title word(dr, i) . " (no control)", \
	     for [i = 1:4] sprintf("%s/%s_control-%s.dat", dir, word(dr, i), sg) using 1:2 \
		with steps lc i title word(dr, i) . " (control)", \
	     0.95 with lines lc rgb "black" dt 3 title "95%"
}
set output outdir . "/power-baseline.png"
set title "25% tail-only p99 shift with a control: larger baselines"
ns = "4000 8000 16000 32000"
ds = "5 10 20"
plot for [i = 1:4] sprintf("%s/min_samples_%s_control-1.dat", dir, word(ns, i)) using 1:2 \
	with steps lc i title "sigma 1.0, min_samples " . word(ns, i), \
     for [i = 1:3] sprintf("%s/dwell_%s_control-0.5.dat", dir, word(ds, i)) using 1:2 \
	with steps dt 2 lc (i + 4) title "sigma 0.5, dwell " . word(ds, i) . " s", \
     0.95 with lines lc rgb "black" dt 3 title "95%"
