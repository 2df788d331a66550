#!/usr/bin/env bash
# Prefill and decode speed of g4 and llama.cpp on the same GGUF, same threads, alternating runs
# (g4 bench and llama-bench each warm up before they measure).
#   bench/compare_llamacpp.sh MODEL.gguf [PROMPT_TOKENS=128] [GEN_TOKENS=32] [THREADS=nproc] [REPS=3]
# LLAMA_BENCH: path of a llama-bench binary built from a llama.cpp checkout with gemma4 support.
set -euo pipefail
MODEL=$1
P=${2:-128}
N=${3:-32}
T=${4:-$(nproc)}
R=${5:-3}
G4=${G4:-build/g4}
LLAMA_BENCH=${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary}

# tokens/s of llama-bench's CSV row for the prompt (n_gen = 0) or generation (n_prompt = 0) test.
llama_ts() {
  python3 -c "
import csv, io, sys
for r in csv.DictReader(io.StringIO(sys.argv[1])):
    if (sys.argv[2] == 'prompt') == (r['n_gen'] == '0'):
        print(r['avg_ts'])" "$1" "$2"
}
g4_pp=() g4_tg=() ll_pp=() ll_tg=()
for ((i = 0; i < R; i++)); do
  out=$("$G4" bench -m "$MODEL" -p "$P" -n "$N" -t "$T" -r 1)
  g4_pp+=("$(sed -nE "s/^\| pp$P +\| +[0-9]+ +\| +[0-9]+ +\| +([0-9.]+) .*/\1/p" <<<"$out")")
  g4_tg+=("$(sed -nE "s/^\| tg$N +\| +[0-9]+ +\| +[0-9]+ +\| +([0-9.]+) .*/\1/p" <<<"$out")")
  out=$("$LLAMA_BENCH" -m "$MODEL" -p "$P" -n "$N" -t "$T" -r 1 -o csv 2>/dev/null)
  ll_pp+=("$(llama_ts "$out" prompt)")
  ll_tg+=("$(llama_ts "$out" gen)")
done
mean() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:] if x]; print(f'{statistics.mean(v):.2f} ± {statistics.pstdev(v):.2f}')" "$@"; }
ratio() { python3 -c "import statistics,sys; a,b=sys.argv[1].split(),sys.argv[2].split(); print(f'{statistics.mean(map(float,a))/statistics.mean(map(float,b)):.2f}')" "$1" "$2"; }
echo "model $MODEL, threads $T, $R runs each"
printf "%-10s %18s %18s %8s\n" test "g4 tok/s" "llama.cpp tok/s" ratio
printf "%-10s %18s %18s %8s\n" "pp$P" "$(mean "${g4_pp[@]}")" "$(mean "${ll_pp[@]}")" "$(ratio "${g4_pp[*]}" "${ll_pp[*]}")"
printf "%-10s %18s %18s %8s\n" "tg$N" "$(mean "${g4_tg[@]}")" "$(mean "${ll_tg[@]}")" "$(ratio "${g4_tg[*]}" "${ll_tg[*]}")"
