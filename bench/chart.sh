#!/bin/sh
# bench/chart.sh CSV PNG: the anydtls/native ratio of every measure with a
# native figure, one bar group per backend (gnuplot from Debian).
set -eu
csv=$1
png=$2
if ! command -v gnuplot >/dev/null; then
    echo "bench: gnuplot not installed (apt-get install gnuplot-nox): no chart" >&2
    exit 0
fi
data=$(mktemp)
trap 'rm -f "$data"' EXIT
# rows: measure ratio-per-backend (columns in the order the backends ran)
backends=$(cut -d, -f1 "$csv" | awk '!seen[$0]++' | tr '\n' ' ')
awk -F, -v list="$backends" '
    BEGIN { n = split(list, b, " ") }
    $6 > 0 && $3 != "B" { r[$2, $1] = $6; if (!($2 in seen)) { seen[$2] = 1; order[++m] = $2 } }
    END {
        printf "measure"; for (i = 1; i <= n; i++) printf "\t%s", b[i]; printf "\n"
        for (j = 1; j <= m; j++) {
            printf "\"%s\"", order[j]
            for (i = 1; i <= n; i++) printf "\t%s", ((order[j], b[i]) in r) ? r[order[j], b[i]] : "NaN"
            printf "\n"
        }
    }' "$csv" >"$data"
cols=$(echo $backends | wc -w)
gnuplot <<GP
set terminal pngcairo size 1000,500 font ",10"
set output "$png"
set title "anydtls / native (1.0 = as fast as the TLS library used directly)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set yrange [0:1.3]
set ytics 0.1
set grid ytics
set xtics rotate by -20
set key top right
set arrow from graph 0, first 0.97 to graph 1, first 0.97 nohead dt 2 lc rgb "red"
plot for [i=2:$((cols + 1))] "$data" using i:xtic(1) title columnheader(i)
GP
echo "bench: chart written to $png"
