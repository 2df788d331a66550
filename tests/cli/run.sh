#!/usr/bin/env bash
# CLI tests: drive the g4 binary as a user does. Usage: run.sh PATH_TO_G4 TESTS_DATA_DIR
# Expected values come from the HF reference (tests/data/tiny-a*/goldens, see tools/reference).
set -uo pipefail
G4=$1
DATA=$2
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
pass=0
fail=0

check() {  # check NAME CONDITION-EXIT-CODE
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}
# expect NAME WANT_EXIT PATTERN -- CMD...: runs CMD, checks its exit code and that output matches PATTERN.
expect() {
  local name=$1 want=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $name: exit $rc, wanted $want"; echo "$out" | head -5; fail=$((fail + 1)); return
  fi
  if ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $name: output lacks /$pattern/"; echo "$out" | head -5; fail=$((fail + 1)); return
  fi
  pass=$((pass + 1))
}

mkdir -p "$WORK/tiny-a" "$WORK/tiny-a-bf16"
for v in tiny-a tiny-a-bf16; do
  cp "$DATA/$v/config.json" "$WORK/$v/"
  xz -dc "$DATA/$v/model.safetensors.xz" > "$WORK/$v/model.safetensors"
done
xz -dc "$DATA/tiny-a/model.gguf.xz" > "$WORK/tiny-a.gguf"
A=$WORK/tiny-a
B=$WORK/tiny-a-bf16

# Help and argument errors.
expect "top-level help" 0 "commands:" -- "$G4" --help
expect "no command" 2 "usage: g4" -- "$G4"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$G4" frobnicate
for c in run logits info; do
  expect "$c --help" 0 "usage: g4 $c" -- "$G4" "$c" --help
done
expect "unknown option" 1 "unknown option '--bogus'" -- "$G4" run -m "$A" --bogus
expect "missing value" 1 "needs a value" -- "$G4" run -m "$A" --temp
expect "bad number" 1 "--temp must be a number" -- "$G4" run -m "$A" --ids 2 --temp hot
expect "out of range" 1 "--top-p must be a number in \[0, 1\]" -- "$G4" run -m "$A" --ids 2 --top-p 1.5
expect "no model" 1 "no model given" -- "$G4" info
expect "missing model" 1 "no such model file or folder" -- "$G4" info -m "$WORK/nope.gguf"
expect "no tokenizer" 1 "ships no tokenizer" -- "$G4" run -m "$A" -p "hello"
expect "bad ids" 1 "not a token id" -- "$G4" run -m "$A" --ids 2,99999
expect "context overflow" 1 "context" -- "$G4" run -m "$A" --ids 2,3,4,5,6 -c 3

# Broken model files: clear errors, never a crash.
head -c 1000 "$WORK/tiny-a.gguf" > "$WORK/cut.gguf"
expect "truncated gguf" 1 "cut.gguf" -- "$G4" info -m "$WORK/cut.gguf"
mkdir -p "$WORK/broken" && cp "$A/config.json" "$WORK/broken/"
head -c 5000 "$A/model.safetensors" > "$WORK/broken/model.safetensors"
expect "truncated safetensors" 1 "model.safetensors" -- "$G4" info -m "$WORK/broken"
echo '{"model_type": "gemma4_unified", "text_config": {"model_type": "gemma4_unified_text"}}' > "$WORK/broken/config.json"
expect "incomplete config" 1 "missing field" -- "$G4" info -m "$WORK/broken"

# info: geometry from the config.
expect "info hf" 0 "layers +6" -- "$G4" info -m "$A"
expect "info per-layer" 0 "2 +full +4 +1 +128 +yes" -- "$G4" info -m "$A"
expect "info gguf" 0 "BF16: .*F16: .*F32" -- "$G4" info -m "$WORK/tiny-a.gguf"
expect "info bf16 scale" 0 "embed scale +11.3125" -- "$G4" info -m "$B"

# quantize: errors, a GGUF and an HF folder to Q8_0, and info on the output.
expect "quantize --help" 0 "usage: g4 quantize IN OUT TYPE" -- "$G4" quantize --help
expect "quantize missing args" 1 "expected IN OUT TYPE" -- "$G4" quantize "$WORK/tiny-a.gguf" "$WORK/q.gguf"
expect "quantize unknown type" 1 "unknown quantization type 'Q3_X' \(valid: Q8_0, Q4_0, Q4_K_M" -- \
  "$G4" quantize "$WORK/tiny-a.gguf" "$WORK/q.gguf" Q3_X
expect "quantize overwrite" 1 "would overwrite the input" -- "$G4" quantize "$WORK/tiny-a.gguf" "$WORK/./tiny-a.gguf" Q8_0
expect "quantize missing input" 1 "no such model file or folder" -- "$G4" quantize "$WORK/nope.gguf" "$WORK/q.gguf" Q8_0
expect "quantize unwritable" 1 "cannot create" -- "$G4" quantize "$WORK/tiny-a.gguf" "$WORK/nodir/q.gguf" Q8_0
expect "quantize gguf" 0 "Q8_0, 85 tensors: F32 44 Q8_0 41" -- "$G4" quantize -q "$WORK/tiny-a.gguf" "$WORK/q8.gguf" q8_0
expect "quantize hf" 0 "Q4_K_M, 85 tensors: F32 44 Q4_K 10 Q5_0 26 Q6_K 2 Q8_0 3" -- \
  "$G4" quantize -q -t 2 "$A" "$WORK/q4km.gguf" Q4_K_M
check "quantize leaves no temporary file" $([ ! -e "$WORK/q8.gguf.part" ]; echo $?)
expect "quantize requantize warns" 0 "warning: 40 tensors are already quantized" -- \
  "$G4" quantize -q "$WORK/q8.gguf" "$WORK/q4.gguf" Q4_0
expect "info quantized" 0 "Q8_0: " -- "$G4" info -m "$WORK/q8.gguf"
expect "run quantized" 0 "" -- "$G4" run -m "$WORK/q4km.gguf" --ids 2,17,300 -n 4 --temp 0
expect "run --quant" 0 "" -- "$G4" run -m "$A" --quant q4_0 --ids 2,17,300 -n 4 --temp 0
expect "info --quant" 0 "Q4_K: " -- "$G4" info -m "$A" --quant q4_k
expect "--quant bad" 1 "unknown type .q3. \\(valid: q8_0, q4_0, q4_k\\)" -- "$G4" info -m "$A" --quant q3
expect "--quant on quantized" 1 "already quantized" -- "$G4" info -m "$WORK/q8.gguf" --quant q4_0

# logits: top-1 at each position of the reference's 'short' prompt.
out=$("$G4" logits -m "$A" --ids 2,17,300,45,999 --top 3 --json)
check "logits json lines" $([ "$(wc -l <<<"$out")" -eq 5 ]; echo $?)
check "logits top-1 (reference: 2 17 300 45 999)" \
  $([ "$(sed -E 's/.*"top":\[\[([0-9]+),.*/\1/' <<<"$out" | tr '\n' ' ')" = "2 17 300 45 999 " ]; echo $?)
gg=$("$G4" logits -m "$WORK/tiny-a.gguf" --ids 2,17,300,45,999 --top 3 --json | sed -E 's/.*"top":\[\[([0-9]+),.*/\1/' | tr '\n' ' ')
check "gguf logits top-1" $([ "$gg" = "2 17 300 45 999 " ]; echo $?)

# run: greedy continuation equals the reference's (tiny-a-bf16, prompt 'short').
out=$("$G4" run -m "$B" --ids 2,17,300,45,999 -n 12 --temp 0)
check "greedy run (reference: 673 673 673 853 97 877 564 531 310 119 1008 758)" \
  $([ "$out" = "673 673 673 853 97 877 564 531 310 119 1008 758" ]; echo $?)
# The same with a prefill chunk of 2 and a small context that still fits.
out=$("$G4" run -m "$B" --ids 2,17,300,45,999 -n 12 --temp 0 --chunk 2 -c 17)
check "greedy run chunked" $([ "$out" = "673 673 673 853 97 877 564 531 310 119 1008 758" ]; echo $?)
# Sampling is reproducible with a seed and varies with it.
s1=$("$G4" run -m "$B" --ids 2,17,300 -n 16 --temp 1 --seed 7)
s2=$("$G4" run -m "$B" --ids 2,17,300 -n 16 --temp 1 --seed 7)
s3=$("$G4" run -m "$B" --ids 2,17,300 -n 16 --temp 1 --seed 8)
check "seeded sampling repeats" $([ "$s1" = "$s2" ]; echo $?)
check "other seed differs" $([ "$s1" != "$s3" ]; echo $?)

# tokenize: ids as HF tokenizers gives them for the same text (reference values).
mkdir -p "$WORK/with-tok"
cp "$A/config.json" "$A/model.safetensors" "$WORK/with-tok/"
xz -dc "$DATA/tokenizer/gemma4-tokenizer.json.xz" > "$WORK/with-tok/tokenizer.json"
expect "tokenize ids" 0 "^9259,236743,105,12392,138,5701,238527,204906$" -- \
  "$G4" tokenize -m "$WORK/with-tok" --ids "Hello <|turn>world  ünï 🎉"
expect "tokenize table" 0 "105 +\"<\|turn>\"" -- "$G4" tokenize -m "$WORK/with-tok" "Hello <|turn>world"
expect "tokenize no-special" 0 "^9259,655," -- "$G4" tokenize -m "$WORK/with-tok" --ids --no-special "Hello <|turn>world"
out=$(printf 'piped text' | "$G4" tokenize -m "$WORK/with-tok" --pieces)
check "tokenize stdin" $([ "$out" = "$(printf '"pip"\n"ed"\n"▁text"')" ]; echo $?)
expect "tokenize without tokenizer" 1 "ships no tokenizer" -- "$G4" tokenize -m "$A" "hi"
# run with text: the prompt goes through the tokenizer; a piece beyond the vocabulary is refused.
expect "prompt beyond vocabulary" 1 "lacks" -- "$G4" run -m "$WORK/with-tok" -p "x<image_soft_token>" -n 1

# chat and template on a random model with the real vocabulary, tokenizer and built-in template;
# expected prompts and ids are HF's (tools/reference/make_chat_test_model.py).
C=$WORK/tiny-chat
mkdir -p "$C"
cp "$DATA/tiny-chat/config.json" "$C/"
xz -dc "$DATA/tiny-chat/model.safetensors.xz" > "$C/model.safetensors"
cp "$WORK/with-tok/tokenizer.json" "$C/"
CONV=$DATA/tiny-chat/conversation.json
for mode in nothink think; do
  flag=""; [ $mode = think ] && flag="--think"
  "$G4" template -m "$C" $flag "$CONV" > "$WORK/prompt_$mode.txt"
  check "template $mode matches HF" $(cmp -s "$WORK/prompt_$mode.txt" "$DATA/tiny-chat/prompt_$mode.txt"; echo $?)
  out=$("$G4" template -m "$C" $flag --ids "$CONV")
  check "template $mode ids match HF" $([ "$out" = "$(cat "$DATA/tiny-chat/prompt_$mode.ids")" ]; echo $?)
done
n_ids=$(tr ',' '\n' < "$DATA/tiny-chat/prompt_nothink.ids" | wc -l)
out=$("$G4" chat -m "$C" --json --temp 0 -n 6 < "$CONV")
check "chat --json prompt tokens" $(grep -q "\"prompt_tokens\": $n_ids," <<<"$out"; echo $?)
check "chat --json completion" $(grep -qE '"finish_reason": "(length|stop|tool_calls)"' <<<"$out"; echo $?)
expect "chat plain stdin" 0 "." -- sh -c "echo '[{\"role\": \"user\", \"content\": \"Hi\"}]' | '$G4' chat -m '$C' -n 4 --temp 0"
expect "chat bad stdin" 1 "not a JSON conversation" -- sh -c "echo 'hello' | '$G4' chat -m '$C'"
expect "chat bad roles" 1 "needs a \"role\"" -- sh -c "echo '[{\"content\": \"x\"}]' | '$G4' chat -m '$C'"
expect "chat overflow" 1 "context holds" -- sh -c "'$G4' chat -m '$C' -c 32 < '$CONV'"
expect "template missing file" 1 "cannot read" -- "$G4" template -m "$C" "$WORK/none.json"

# serve: starts, answers an OpenAI chat request, refuses a taken port, stops cleanly on SIGTERM.
expect "serve --help" 0 "usage: g4 serve" -- "$G4" serve --help
expect "serve bad port" 1 "--port must be" -- "$G4" serve -m "$C" --port 70000
"$G4" serve -m "$C" --port 0 -np 2 -c 256 2> "$WORK/serve.log" &
spid=$!
port=""
for _ in $(seq 100); do
  port=$(sed -nE 's|.*listening on http://127.0.0.1:([0-9]+).*|\1|p' "$WORK/serve.log")
  [ -n "$port" ] && break
  sleep 0.1
done
check "serve listens" $([ -n "$port" ]; echo $?)
out=$(python3 - "$port" <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/chat/completions",
    data=json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}).encode(),
    headers={"Content-Type": "application/json"})
r = json.load(urllib.request.urlopen(req, timeout=60))
print(r["object"], r["choices"][0]["finish_reason"], r["usage"]["completion_tokens"])
PY
)
check "serve chat completion" $(grep -qE '^chat.completion (length|stop|tool_calls) [1-4]$' <<<"$out"; echo $?)
expect "serve port taken" 1 "cannot listen on 127.0.0.1:$port" -- "$G4" serve -m "$C" --port "$port"
kill -TERM "$spid"
wait "$spid"
check "serve stops on SIGTERM" $?
check "serve logs requests" $(grep -qE 'g4 serve: chat 200 prompt=[0-9]+ ' "$WORK/serve.log"; echo $?)

# bench: a llama-bench-like table.
out=$("$G4" bench -m "$A" -p 16 -n 8 -r 2 -t 2)
check "bench pp row" $(grep -qE '^\| pp16 +\| +2 +\| +2 +\| +[0-9.]+ ± +[0-9.]+ \|$' <<<"$out"; echo $?)
check "bench tg row" $(grep -qE '^\| tg8 +\| +2 +\| +2 +\| +[0-9.]+ ± +[0-9.]+ \|$' <<<"$out"; echo $?)
check "bench bandwidth bound" $(grep -qE 'read bandwidth: [0-9.]+ GB/s -> decode bound [0-9.]+ tok/s' <<<"$out"; echo $?)
expect "bench nothing" 1 "nothing to measure" -- "$G4" bench -m "$A" -p 0 -n 0

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
