// Plan, header, then data: the plan fixes every tensor's output type, which fixes the header (all
// offsets), and then each tensor is converted and appended in the order llama.cpp's quantizer writes
// them.
#include "convert/quantize_model.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "convert/convert_tensor.h"
#include "convert/gemma4_layout.h"
#include "convert/progress.h"
#include "io/gguf_writer.h"

namespace g4::convert {

namespace {

struct Job {
  std::string name;
  const TensorInfo* src;
  PlannedTensor plan;
};

}  // namespace

Result<QuantizeReport> quantize_model(const ModelFiles& in, const std::string& out, const Scheme& scheme,
                                      const QuantizeOptions& opts) {
  GgufWriter w;
  Gemma4Layout layout;  // HF input: names and the rope_freqs table (must outlive the jobs)
  std::vector<Job> jobs;
  if (in.gguf) {
    w.copy_metadata(*in.gguf);
    for (const auto& [name, t] : in.gguf->tensors.tensors()) jobs.push_back({name, &t, {}});
  } else {
    G4_TRY(gemma4_metadata(in, w));
    G4_TRY(gemma4_layout(in, &layout));
    for (const auto& t : layout.tensors) jobs.push_back({t.gguf_name, t.source, {}});
  }
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", scheme.ftype);
  std::stable_sort(jobs.begin(), jobs.end(), [](const Job& a, const Job& b) { return tensor_order_less(a.name, b.name); });

  std::vector<PlanTensor> plan_in;
  for (const auto& j : jobs) plan_in.push_back({j.name, j.src->shape, j.src->dtype});
  std::vector<PlannedTensor> plan = plan_types(plan_in, scheme, in.config.n_layers, /*unquantized_to_f32=*/!in.gguf);

  QuantizeReport report;
  int requantized = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    Job& j = jobs[i];
    j.plan = plan[i];
    G4_TRY(w.add_tensor(j.name, j.plan.type, j.src->shape));
    report.tensors.push_back({j.name, j.src->shape, j.src->dtype, j.plan.type, j.plan.fallback});
    report.bytes_in += j.src->nbytes;
    if (dtype_is_block(j.src->dtype) && j.src->dtype != j.plan.type) ++requantized;
  }
  if (requantized)
    report.warnings.push_back(std::to_string(requantized) +
                              " tensors are already quantized and are requantized from their dequantized values, "
                              "which loses more precision than quantizing the original weights");
  if (opts.warn)
    for (const auto& m : report.warnings) opts.warn(m);

  const std::string tmp = out + ".part";
  G4_TRY(w.open(tmp));
  auto fail = [&](const Error& e) -> Error {
    ::unlink(tmp.c_str());
    return e;
  };
  ThreadPool pool(opts.threads);
  uint64_t total = 0;
  for (size_t i = 0; i < w.tensor_count(); ++i) total += w.tensor_bytes(i);
  Progress progress(int(jobs.size()), total, opts.quiet);
  uint64_t done = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    Status s = convert_tensor(*j.src, j.plan.type, pool, [&](const uint8_t* p, size_t n) -> Status {
      G4_TRY(w.write(p, n));
      done += n;
      progress.update(int(i), j.name, done);
      return {};
    });
    if (!s) return fail(s.error());
  }
  if (Status s = w.close(); !s) return fail(s.error());
  if (std::rename(tmp.c_str(), out.c_str()) != 0)
    return fail(make_error("%s: cannot rename to %s", tmp.c_str(), out.c_str()));
  progress.finish(done);
  report.bytes_out = done;
  return report;
}

}  // namespace g4::convert
