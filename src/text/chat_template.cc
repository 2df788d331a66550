#include "text/chat_template.h"

namespace g4 {
namespace {

using ojson = nlohmann::ordered_json;

ojson normalize_message(const ojson& m) {
  ojson out = ojson::object();
  for (auto it = m.begin(); it != m.end(); ++it)
    if (!it.value().is_null()) out[it.key()] = it.value();
  // transformers' _alias_reasoning_fields: {"thinking": r, **message, "reasoning_content": r}.
  const ojson* reasoning = nullptr;
  for (const char* key : {"reasoning_content", "thinking", "reasoning"}) {
    auto it = out.find(key);
    if (it != out.end()) {
      reasoning = &*it;
      break;
    }
  }
  if (!reasoning) return out;
  ojson r = *reasoning;
  ojson aliased = ojson::object();
  aliased["thinking"] = r;
  for (auto it = out.begin(); it != out.end(); ++it) aliased[it.key()] = it.value();
  aliased["reasoning_content"] = r;
  return aliased;
}

}  // namespace

Result<nlohmann::ordered_json> build_chat_context(const ojson& messages, const ojson& tools, bool add_generation_prompt,
                                                  const ojson& extra_kwargs, const ChatSpecialTokens& special) {
  if (!messages.is_array()) return make_error("chat messages must be a JSON array");
  if (messages.empty())
    return make_error("Cannot apply chat template to an empty conversation. Provide at least one message.");
  if (!tools.is_null() && !tools.is_array()) return make_error("chat tools must be a JSON array or null");
  if (!extra_kwargs.is_null() && !extra_kwargs.is_object()) return make_error("chat template kwargs must be a JSON object");
  ojson msgs = ojson::array();
  for (const ojson& m : messages) {
    if (!m.is_object()) return make_error("Chat messages should be dicts, but got %s", m.dump().c_str());
    msgs.push_back(normalize_message(m));
  }
  if (tools.is_array())
    for (const ojson& t : tools)
      if (!t.is_object()) return make_error("Tools should be JSON schemas (objects), but got %s", t.dump().c_str());
  ojson ctx = ojson::object();
  ctx["messages"] = std::move(msgs);
  ctx["tools"] = tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = add_generation_prompt;
  ctx["bos_token"] = special.bos_token;
  ctx["eos_token"] = special.eos_token;
  ctx["unk_token"] = special.unk_token;
  ctx["pad_token"] = special.pad_token;
  if (extra_kwargs.is_object()) {
    for (auto it = extra_kwargs.begin(); it != extra_kwargs.end(); ++it) {
      const std::string& k = it.key();
      if (k == "messages" || k == "tools" || k == "documents" || k == "add_generation_prompt")
        return make_error("chat template kwarg '%s' clashes with a built-in template variable", k.c_str());
      ctx[k] = it.value();
    }
  }
  return ctx;
}

Result<std::string> render_chat(const jinja::Template& tmpl, const ojson& messages, const ojson& tools,
                                bool add_generation_prompt, const ojson& extra_kwargs, const ChatSpecialTokens& special) {
  G4_ASSIGN_OR_RETURN(ojson ctx, build_chat_context(messages, tools, add_generation_prompt, extra_kwargs, special));
  return tmpl.render(ctx);
}

}  // namespace g4
