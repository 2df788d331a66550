#!/usr/bin/env bash
# g4 against llama.cpp on the same GGUF, same threads, alternating runs:
#  - prefill and decode speed (g4 bench and llama-bench each warm up before they measure);
#  - peak RSS of a whole run (GNU time's maximum resident set);
#  - start to first token: the wall time of a process that loads the model (cold: no warm-up run)
#    and processes one TTFT_PROMPT-token prompt.
#   bench/compare_llamacpp.sh MODEL.gguf [PROMPT_TOKENS=128] [GEN_TOKENS=32] [THREADS=nproc] [REPS=3]
# LLAMA_BENCH: path of a llama-bench binary built from a llama.cpp checkout with gemma4 support.
# TTFT_PROMPT: prompt length for the first-token measurement (default 64).
set -euo pipefail
MODEL=$1
P=${2:-128}
N=${3:-32}
T=${4:-$(nproc)}
R=${5:-3}
TP=${TTFT_PROMPT:-64}
G4=${G4:-build/g4}
LLAMA_BENCH=${LLAMA_BENCH:?set LLAMA_BENCH to a llama-bench binary}
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "needs GNU time (apt install time)" >&2; exit 1; }

# tokens/s of llama-bench's CSV row for the prompt (n_gen = 0) or generation (n_prompt = 0) test.
llama_ts() {
  python3 -c "
import csv, io, sys
for r in csv.DictReader(io.StringIO(sys.argv[1])):
    if (sys.argv[2] == 'prompt') == (r['n_gen'] == '0'):
        print(r['avg_ts'])" "$1" "$2"
}
g4_pp=() g4_tg=() ll_pp=() ll_tg=() g4_rss=() ll_rss=() g4_ft=() ll_ft=()
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for ((i = 0; i < R; i++)); do
  out=$("$TIME" -f "%M" -o "$tmp" "$G4" bench -m "$MODEL" -p "$P" -n "$N" -t "$T" -r 1 --no-bandwidth)
  g4_rss+=("$(tail -1 "$tmp")")
  g4_pp+=("$(sed -nE "s/^\| pp$P +\| +[0-9]+ +\| +[0-9]+ +\| +([0-9.]+) .*/\1/p" <<<"$out")")
  g4_tg+=("$(sed -nE "s/^\| tg$N +\| +[0-9]+ +\| +[0-9]+ +\| +([0-9.]+) .*/\1/p" <<<"$out")")
  out=$("$TIME" -f "%M" -o "$tmp" "$LLAMA_BENCH" -m "$MODEL" -p "$P" -n "$N" -t "$T" -r 1 -o csv 2>/dev/null)
  ll_rss+=("$(tail -1 "$tmp")")
  ll_pp+=("$(llama_ts "$out" prompt)")
  ll_tg+=("$(llama_ts "$out" gen)")
  "$TIME" -f "%e" -o "$tmp" "$G4" bench -m "$MODEL" -p "$TP" -n 0 -t "$T" -r 1 --no-warmup --no-bandwidth >/dev/null
  g4_ft+=("$(tail -1 "$tmp")")
  "$TIME" -f "%e" -o "$tmp" "$LLAMA_BENCH" -m "$MODEL" -p "$TP" -n 0 -t "$T" -r 1 --no-warmup >/dev/null 2>&1
  ll_ft+=("$(tail -1 "$tmp")")
done
mean() { python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[2:] if x]; print(f'{statistics.mean(v)*float(sys.argv[1]):.2f} ± {statistics.pstdev(v)*float(sys.argv[1]):.2f}')" "$@"; }
ratio() { python3 -c "import statistics,sys; a,b=sys.argv[1].split(),sys.argv[2].split(); print(f'{statistics.mean(map(float,a))/statistics.mean(map(float,b)):.2f}')" "$1" "$2"; }
echo "model $MODEL, threads $T, $R runs each"
printf "%-22s %18s %18s %8s\n" test g4 llama.cpp "g4/llama"
printf "%-22s %18s %18s %8s\n" "pp$P tok/s" "$(mean 1 "${g4_pp[@]}")" "$(mean 1 "${ll_pp[@]}")" "$(ratio "${g4_pp[*]}" "${ll_pp[*]}")"
printf "%-22s %18s %18s %8s\n" "tg$N tok/s" "$(mean 1 "${g4_tg[@]}")" "$(mean 1 "${ll_tg[@]}")" "$(ratio "${g4_tg[*]}" "${ll_tg[*]}")"
printf "%-22s %18s %18s %8s\n" "peak RSS GiB" "$(mean 9.5367431640625e-07 "${g4_rss[@]}")" "$(mean 9.5367431640625e-07 "${ll_rss[@]}")" "$(ratio "${g4_rss[*]}" "${ll_rss[*]}")"
printf "%-22s %18s %18s %8s\n" "first token s (p$TP)" "$(mean 1 "${g4_ft[@]}")" "$(mean 1 "${ll_ft[@]}")" "$(ratio "${g4_ft[*]}" "${ll_ft[*]}")"
"$G4" bench -m "$MODEL" -p 0 -n 1 -t "$T" -r 1 | sed -n 2p  # the bandwidth bound
