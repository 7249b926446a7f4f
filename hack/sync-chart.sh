#!/usr/bin/env bash
# sync-chart.sh - copy the CRDs and the Grafana dashboard into the Helm chart.
# crds/ and config/grafana/ are the sources; test/charts checks the copies are identical.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p charts/mbcas/crds charts/mbcas/dashboards
rm -f charts/mbcas/crds/*.yaml
cp crds/mbcas.io_*.yaml charts/mbcas/crds/
cp config/grafana/mbcas-dashboard.json charts/mbcas/dashboards/
echo "sync-chart: $(ls charts/mbcas/crds | wc -l) CRDs and the dashboard copied"
