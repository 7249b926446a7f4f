#!/usr/bin/env bash
# evaluate.sh - regenerate every table and plot of docs/evaluation.md with mbcas-sim.
#
#   bash hack/evaluate.sh            # build mbcas-sim, run all traces, rewrite docs
#   MBCAS_SIM=/path/to/mbcas-sim bash hack/evaluate.sh   # use an existing binary
#
# Needs: cmake + a C compiler (or MBCAS_SIM), gnuplot (Debian gnuplot-nox), the traces
# in $MBCAS_SHARED_DIR/traces (default: ../shared beside the checkout).
# Writes: docs/evaluation/results.md, target.md, sensitivity.md, bench.md, *.png, and
# splices them into docs/evaluation.md between the <!-- BEGIN x --> / <!-- END x -->
# markers. Per-step CSVs go to $EVAL_OUT (default build-eval/eval), not into docs/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export MBCAS_SHARED_DIR=${MBCAS_SHARED_DIR:-$(cd "$ROOT/.." && pwd)/shared}
BUILD=${BUILD:-$ROOT/build-eval}
OUT=${EVAL_OUT:-$BUILD/eval}
DOC=$ROOT/docs/evaluation
SIM=${MBCAS_SIM:-}
if [ -z "$SIM" ]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$BUILD" --target mbcas-sim -j2 >/dev/null
  SIM=$BUILD/sim/mbcas-sim
fi
mkdir -p "$OUT/csv" "$DOC"
rm -f "$OUT"/csv/*.csv

# label | mbcas-sim trace options (window, column, gap filling)
TRACES=(
  "nasa|--trace-name nasa_http_1995_jul --days 7"
  "worldcup98|--trace-name worldcup98_growth --start-days 33 --days 7"
  "twitter|--trace-name twitter_stream_2021_08 --days 7 --fill-zeros"
  "azure-llm|--trace-name azure_llm_inference_2023"
  "azure-vm|--trace-name azure_vm_cpu_2019 --column cpu_core_percent_total --days 7"
  "alibaba|--trace-name alibaba2018_cluster_cpu --column cpu_util_percent"
)
COMMON="--peak 600 --peak-quantile 0.999"

echo "running ${#TRACES[@]} traces x 6 policies ..." >&2
{
  "$SIM" --help >/dev/null
  first=1
  for t in "${TRACES[@]}"; do
    label=${t%%|*}
    opts=${t#*|}
    hdr=--no-header
    [ $first = 1 ] && hdr= && first=0
    # shellcheck disable=SC2086
    "$SIM" $opts $COMMON --label "$label" --csv-dir "$OUT/csv" --csv-every 4 $hdr
  done
} >"$DOC/results.md"

# The target: proactive MBCAS vs HPA, per trace. Met when proactive's violation time is at
# most 70 % of the HPA's (so 0 against 0 counts, and is marked as such) and its core-hours
# are at most the HPA's.
awk -F'|' '
  function trim(s) { gsub(/^ +| +$/, "", s); return s }
  NR > 2 { tr = trim($2); p = trim($3); v[tr, p] = trim($4); ch[tr, p] = trim($7); ro[tr, p] = trim($8)
           if (!(tr in seen)) { seen[tr] = 1; order[++n] = tr } }
  END {
    print "| trace | HPA violation % | MBCAS-proactive violation % | reduction | core-h proactive / HPA | proactive core-h / oracle | HPA core-h / oracle | target met |"
    print "|---|---:|---:|---:|---:|---:|---:|---|"
    for (i = 1; i <= n; i++) {
      tr = order[i]; h = v[tr, "hpa"] + 0; m = v[tr, "mbcas-proactive"] + 0
      red = (h > 0) ? sprintf("%.0f%%", 100 * (h - m) / h) : (m > 0 ? "worse (HPA 0)" : "n/a (both 0)")
      cr = ch[tr, "mbcas-proactive"] / ch[tr, "hpa"]
      ok = (m <= 0.7 * h + 1e-9 && cr <= 1.0) ? ((h > 0) ? "yes" : "yes (both 0)") : "no"
      printf "| %s | %s | %s | %s | %.3f | %s | %s | %s |\n", tr, h, m, red, cr, ro[tr, "mbcas-proactive"], ro[tr, "hpa"], ok
    }
  }' "$DOC/results.md" >"$DOC/target.md"

# Sensitivity: proactive MBCAS with one setting moved at a time (and a few mechanisms
# switched off), on every trace, against the HPA rows of results.md. Each cell is
# "violation % / core-hours as a fraction of the HPA's", starred when the target is met.
SENS=(
  "defaults|"
  "forecast band z 0.3|--forecast-z 0.3"
  "forecast band z 0.75|--forecast-z 0.75"
  "forecast sized at 0.80|--forecast-util 0.8"
  "forecast sized at 0.90|--forecast-util 0.9"
  "replica target 0.75|--target-demand 0.75"
  "replica target 0.85|--target-demand 0.85"
  "scale-in window 120 s|--scale-in-window 120"
  "scale-in window 240 s|--scale-in-window 240"
  "hold horizon 300 s|--horizon 300"
  "hold horizon 1800 s|--horizon 1800"
  "band trusted after 20|--forecast-band-min 20"
  "band trusted after 80|--forecast-band-min 80"
  "burst need at 0.70|--need-util 0.7"
  "burst need at 0.80|--need-util 0.8"
  "burst hold 30 s|--need-hold 30"
  "burst hold 120 s|--need-hold 120"
  "burst cap 1.25 CPU|--burst-cap 1250"
  "burst cap 2 CPU|--burst-cap 2000"
  "off: no burst (pods fixed at 1 CPU)|--need-util 0"
  "off: no error band (z 0)|--forecast-z 0"
  "off: agent signals 30 s old, like metrics|--agent-lag 30"
  "off: demand smoothed (half-life 30 s)|--demand-half-life 30"
  "previous round's settings|--need-util 0 --agent-lag 30 --demand-half-life 30 --target-demand 0.7 --scale-out-demand 0.77 --scale-in-demand 0.5 --scale-in-window 300 --forecast-util 0 --forecast-z 0 --horizon 600 --forecast-lead 600 --forecast-band-min 0"
)
{
  printf "| proactive MBCAS setting |"
  for t in "${TRACES[@]}"; do printf " %s |" "${t%%|*}"; done
  echo " traces met |"
  printf "|---|"
  for t in "${TRACES[@]}"; do printf -- "---:|"; done
  echo "---:|"
  for sv in "${SENS[@]}"; do
    label=${sv%%|*}
    extra=${sv#*|}
    printf "| %s |" "$label"
    met=0
    for t in "${TRACES[@]}"; do
      tl=${t%%|*}
      opts=${t#*|}
      # shellcheck disable=SC2086
      row=$("$SIM" $opts $COMMON --label "$tl" --no-header --policy mbcas-proactive $extra)
      cell=$(awk -F'|' -v tr="$tl" -v r="$row" '
        function trim(s) { gsub(/^ +| +$/, "", s); return s }
        NR > 2 && trim($2) == tr && trim($3) == "hpa" { h = trim($4) + 0; hc = trim($7) + 0 }
        END { split(r, f, "|"); m = trim(f[4]) + 0; c = trim(f[7]) / hc
              printf "%.2f / %.3f%s", m, c, (m <= 0.7 * h + 1e-9 && c <= 1.0) ? " *" : "" }' "$DOC/results.md")
      case $cell in *"*") met=$((met + 1)) ;; esac
      printf " %s |" "$cell"
    done
    echo " $met / ${#TRACES[@]} |"
  done
} >"$DOC/sensitivity.md"

# Benchmark: one simulated day, 3 tiers, about 30 pods (HPA and MBCAS at the NASA peak).
{
  echo "| policy | steps | simulated hours | wall seconds |"
  echo "|---|---:|---:|---:|"
  for pol in static hpa vpa mbcas mbcas-proactive; do
    "$SIM" --trace-name nasa_http_1995_jul --days 1 --start-days 3 $COMMON --policy $pol \
      --no-header --timing 2>&1 >/dev/null | sed -n 's/^timing policy=\([^ ]*\) steps=\([0-9]*\) sim_hours=\([0-9.]*\) wall_s=\([0-9.]*\)/| \1 | \2 | \3 | \4 |/p'
  done
} >"$DOC/bench.md"

# Plots: one day (the last full day of each window, so the forecast has a season), three
# panels: load, allocated cores, end-to-end p95 latency.
for t in "${TRACES[@]}"; do
  label=${t%%|*}
  f=$OUT/csv/$label-hpa.csv
  last=$(tail -n 1 "$f" | cut -d, -f1)
  from=$(awk -v l="$last" 'BEGIN { d = int(l / 86400); s = (d >= 1) ? (d - 1) * 86400 : 0; print s }')
  to=$(awk -v f="$from" -v l="$last" 'BEGIN { t = f + 86400; print (t < l) ? t : l }')
  gnuplot <<GP
set terminal pngcairo size 1100,900 font ",10"
set output "$DOC/$label.png"
set datafile separator ","
set key outside right top
set xrange [$from/3600.0:$to/3600.0]
set multiplot layout 3,1 title "$label: one day (hours since the start of the window)"
set ylabel "frontend req/s"
plot "$OUT/csv/$label-hpa.csv" every ::1 using (\$1/3600):2 with lines lw 1 lc rgb "#555555" title "load"
set ylabel "allocated cores"
plot for [p in "static hpa vpa mbcas mbcas-proactive oracle"] "$OUT/csv/$label-".p.".csv" every ::1 using (\$1/3600):3 with lines lw 1 title p
set ylabel "p95 latency ms (log)"
set logscale y
set yrange [20:60000]
plot for [p in "static hpa vpa mbcas mbcas-proactive"] "$OUT/csv/$label-".p.".csv" every ::1 using (\$1/3600):11 with lines lw 1 title p, 200 with lines dt 2 lc rgb "red" title "SLO"
unset multiplot
GP
done

# Splice the generated files into docs/evaluation.md between markers.
/usr/bin/python3 - "$ROOT/docs/evaluation.md" "$DOC" <<'PY'
import re, sys, pathlib
doc, d = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
text = doc.read_text()
for name in ("results", "target", "sensitivity", "bench"):
    body = (d / f"{name}.md").read_text().rstrip("\n")
    pat = re.compile(r"(<!-- BEGIN %s -->\n).*?(<!-- END %s -->)" % (name, name), re.S)
    if not pat.search(text):
        sys.exit(f"docs/evaluation.md: markers for {name} missing")
    text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
doc.write_text(text)
PY
echo "wrote $DOC/{results,target,sensitivity,bench}.md, $DOC/*.png and docs/evaluation.md" >&2
