#!/bin/bash
# bench/compare.sh: the Go benchmarks and an independent PyTorch implementation of the same network
# (../shared/tools/torchref, plus bench/torchside.py), run alternately in one run on a quiet machine, printed as a
# table of medians and Go/PyTorch ratios (markdown). A development tool: PyTorch is never a dependency of dmmd.
#
#   bench/compare.sh                    # 2 threads, 5 rounds
#   THREADS="1 2" ROUNDS=7 bench/compare.sh
#   FORCE=1 bench/compare.sh            # run even if the machine is busy (the table says so)
#
# Needs Go and Debian's python3-torch (apt-get install python3-torch python3-numpy). Each round runs every op once
# on each side (Go: `go test -bench` with -benchtime 5x; PyTorch: 5 iterations after a warm-up), alternating, so a
# change in machine load hits both. Threads: GOMAXPROCS for Go, torch.set_num_threads for PyTorch
# (OMP_WAIT_POLICY=PASSIVE, as torchref's README asks).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-2}
TORCHREF=${TORCHREF:-../shared/tools/torchref}
PY=${PY:-/usr/bin/python3}
export TORCHREF OMP_WAIT_POLICY=PASSIVE

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -f "$TORCHREF/mirror.py" ] || die "no $TORCHREF/mirror.py (set TORCHREF)"
"$PY" -c 'import torch' 2>/dev/null || die "$PY cannot import torch (apt-get install python3-torch python3-numpy)"

# Quiet check: the share of all CPUs busy over two seconds (from /proc/stat), and the load average for the record.
busy() {
	local a b pct
	a=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	sleep 2
	b=$(awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat)
	pct=$(echo "$a $b" | awk '{d = $4 - $2; printf "%.0f", (d > 0 ? 100 * ($3 - $1) / d : 0)}')
	echo "CPUs ${pct}% busy, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	[ "$pct" -gt 10 ]
}
state=$(busy) && quiet=no || quiet=yes
if [ $quiet = no ] && [ -z "${FORCE:-}" ]; then
	die "the machine is busy ($state): timing now would measure the other jobs; set FORCE=1 to run anyway"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/model.test" ./model
go test -c -o "$tmp/sample.test" ./sample
res=$tmp/results.jsonl

# go_bench BIN DIR BENCH THREADS OP: one Go benchmark run, appended as JSON (seconds per op, peak RSS).
go_bench() {
	local out
	out=$( cd "$2" && GOMAXPROCS=$4 "$1" -test.run '^$' -test.bench "$3" -test.benchtime 5x 2>&1 ) || { echo "$out" >&2; die "go benchmark $3 failed"; }
	echo "$out" | "$PY" -c '
import json, re, sys
op, th = sys.argv[1], int(sys.argv[2])
for line in sys.stdin:
    if not line.startswith("Benchmark"):
        continue
    m = re.search(r"([0-9.]+) s/step", line) or re.search(r"([0-9.]+) ns/op", line)
    s = float(m.group(1)) if "s/step" in m.group(0) else float(m.group(1)) / 1e9
    r = re.search(r"([0-9.]+) peakRSS-MiB", line)
    print(json.dumps(dict(side="go", op=op, threads=th, s=s, rss=float(r.group(1)) if r else None)))
' "$5" "$4" >> "$res"
}

# torch_bench SCRIPT OP THREADS NAME
torch_bench() {
	local out
	out=$("$PY" "$1" bench --op "$2" --threads "$3" --iters 5 --rounds 1 2>&1) || { echo "$out" >&2; die "torch $2 failed"; }
	echo "$out" | grep '^RESULT ' | sed 's/^RESULT //' | "$PY" -c '
import json, sys
r = json.loads(sys.stdin.read())
print(json.dumps(dict(side="torch", op=sys.argv[1], threads=int(sys.argv[2]), s=r["median_s_per_op"], rss=r["peak_rss_mib"])))
' "$4" "$3" >> "$res"
}


ops="train train_interp_adam witness flow_exact features128"
for th in $THREADS; do
	for r in $(seq "$ROUNDS"); do
		echo "threads $th, round $r/$ROUNDS" >&2
		for op in $ops; do
			case $op in
			train) go_bench "$tmp/model.test" model '^BenchmarkTrainStep$' "$th" $op
				torch_bench "$TORCHREF/mirror.py" train "$th" $op ;;
			train_interp_adam) go_bench "$tmp/model.test" model '^BenchmarkTrainStepInterpAdam$' "$th" $op
				out=$("$PY" bench/torchside.py --op train_interp_adam --threads "$th" --iters 5 --rounds 1) || die "torchside failed"
				echo "$out" | grep '^RESULT ' | sed 's/^RESULT //' | "$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps(dict(side="torch", op=sys.argv[1], threads=int(sys.argv[2]), s=r["median_s_per_op"], rss=r["peak_rss_mib"])))' $op "$th" >> "$res" ;;
			witness) go_bench "$tmp/model.test" model '^BenchmarkWitnessGrad$' "$th" $op
				torch_bench "$TORCHREF/mirror.py" witness "$th" $op ;;
			flow_exact) go_bench "$tmp/sample.test" sample '^BenchmarkFlowStepSmall$/^exact$' "$th" $op
				out=$("$PY" bench/torchside.py --op flow_exact --threads "$th" --iters 5 --rounds 1) || die "torchside failed"
				echo "$out" | grep '^RESULT ' | sed 's/^RESULT //' | "$PY" -c 'import json,sys; r=json.loads(sys.stdin.read()); print(json.dumps(dict(side="torch", op=sys.argv[1], threads=int(sys.argv[2]), s=r["median_s_per_op"], rss=r["peak_rss_mib"])))' $op "$th" >> "$res" ;;
			features128) go_bench "$tmp/model.test" model '^BenchmarkFeatures128$' "$th" $op
				torch_bench "$TORCHREF/mirror.py" features128 "$th" $op ;;
			esac
		done
	done
done
state_after=$(busy) || true

"$PY" - "$res" "$ROUNDS" "$quiet" "$state" "$state_after" <<'PYEOF'
import json, statistics, subprocess, sys, datetime, platform
path, rounds, quiet, before, after = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
rows = [json.loads(l) for l in open(path)]
names = {
    "train": "training step, penalty at x_t, no Adam (`BenchmarkTrainStep` / `mirror.py bench --op train`)",
    "train_interp_adam": "training step as the trainer runs it: penalty at interpolates + Adam (`BenchmarkTrainStepInterpAdam` / `torchside.py --op train_interp_adam`)",
    "witness": "witness gradient, 256 particles (`BenchmarkWitnessGrad` / `mirror.py bench --op witness`)",
    "flow_exact": "one exact-flow step, 256 particles in one pass (`BenchmarkFlowStepSmall/exact` / `torchside.py --op flow_exact`)",
    "features128": "features of 128 images, forward only (`BenchmarkFeatures128` / `mirror.py bench --op features128`)",
}
cpu = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip(); break
flags = open("/proc/cpuinfo").read()
isa = "AVX-512" if "avx512f" in flags else ("AVX2" if "avx2" in flags else "no AVX2")
print(f"Measured {datetime.date.today()} on {cpu} ({isa}), {platform.machine()}, "
      f"{subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
      f"{'quiet' if quiet == 'yes' else 'NOT QUIET (FORCE=1)'}: before: {before}; after: {after}. "
      f"Small preset, 32x32x3, float32, B = 64 per side; median of {rounds} alternating rounds.")
print()
print("| op | threads | Go s (min-max) | PyTorch s (min-max) | Go / PyTorch | peak RSS Go / PyTorch (MiB) |")
print("|---|---|---|---|---|---|")
keys = sorted({(r["op"], r["threads"]) for r in rows}, key=lambda k: (list(names).index(k[0]), k[1]))
for op, th in keys:
    g = [r for r in rows if r["op"] == op and r["threads"] == th and r["side"] == "go"]
    t = [r for r in rows if r["op"] == op and r["threads"] == th and r["side"] == "torch"]
    gs, ts = [r["s"] for r in g], [r["s"] for r in t]
    gm, tm = statistics.median(gs), statistics.median(ts)
    grss = max((r["rss"] for r in g if r["rss"]), default=None)
    trss = max((r["rss"] for r in t if r["rss"]), default=None)
    rss = f"{grss:.0f} / {trss:.0f}" if grss else f"- / {trss:.0f}"
    print(f"| {names[op]} | {th} | {gm:.3f} ({min(gs):.3f}-{max(gs):.3f}) | {tm:.3f} ({min(ts):.3f}-{max(ts):.3f}) | **{gm/tm:.2f}** | {rss} |")
PYEOF
