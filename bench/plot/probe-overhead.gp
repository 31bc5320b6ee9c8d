# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Probe overhead per tool, one panel per site: ns per call of pg_hot as bars,
# the floor (an empty uprobe + uretprobe) as a line, x floor above each bar.
# In: dir/po-SITE.dat ("tool" ns ratio), floor_nop5, floor_trap (ns).
load "common.gp"
set output outdir . "/probe-overhead.png"
set multiplot layout 1, 2 title "Probe overhead per call of pg_hot (median of interleaved rounds)"
set style data boxes
set boxwidth 0.6
unset key
set grid noxtics
set ylabel "ns per call"
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
sites = "nop5 trap"
titles = "'nop5 site (5-byte NOP at entry)' 'trapping site (int3 uprobe)'"
do for [i = 1:2] {
	s = word(sites, i)
	fl = real(value("floor_" . s))
	set title word(titles, i)
	set label 1 sprintf("floor: empty probes, %.0f ns", fl) at graph 0.02, first fl \
		offset 0, 0.8 left front
	plot dir . "/po-" . s . ".dat" using 0:2:xtic(1) lc 1, \
	     "" using 0:2:(sprintf("x%.2f", $3)) with labels offset 0, 0.8, \
	     fl with lines lc rgb "black" dt 2 lw 2
}
unset multiplot
