#include "testing/fixtures.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>

namespace g4::testing {

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}

// True when `out` exists and is not older than `src` (a regenerated .xz is decompressed again).
bool up_to_date(const std::string& out, const std::string& src) {
  struct stat so {}, ss {};
  if (stat(out.c_str(), &so) != 0) return false;
  if (stat(src.c_str(), &ss) != 0) return true;
  return so.st_mtim.tv_sec > ss.st_mtim.tv_sec ||
         (so.st_mtim.tv_sec == ss.st_mtim.tv_sec && so.st_mtim.tv_nsec >= ss.st_mtim.tv_nsec);
}

void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("fixture command failed: " + cmd);
}

std::mutex mu;

}  // namespace

std::string fixture(const std::string& rel) {
  std::lock_guard<std::mutex> lk(mu);
  const std::string src = std::string(G4_TEST_DATA) + "/" + rel;
  if (exists(src)) return src;
  const std::string out = std::string(G4_BINARY_DIR) + "/testdata/" + rel;
  if (up_to_date(out, src + ".xz")) return out;
  if (!exists(src + ".xz")) throw std::runtime_error("missing fixture " + src + "(.xz)");
  const std::string dir = out.substr(0, out.rfind('/'));
  // Test processes run in parallel: each decompresses to its own temporary name, then renames (atomic).
  const std::string tmp = out + ".tmp." + std::to_string(getpid());
  run("mkdir -p '" + dir + "' && xz -dc '" + src + ".xz' > '" + tmp + "' && mv -f '" + tmp + "' '" + out + "'");
  return out;
}

std::string hf_fixture_dir(const std::string& dir) {
  const std::string weights = fixture(dir + "/model.safetensors");
  const std::string out_dir = weights.substr(0, weights.rfind('/'));
  std::lock_guard<std::mutex> lk(mu);
  if (!exists(out_dir + "/config.json")) {
    const std::string tmp = out_dir + "/config.json.tmp." + std::to_string(getpid());
    run("cp '" + std::string(G4_TEST_DATA) + "/" + dir + "/config.json' '" + tmp + "' && mv -f '" + tmp + "' '" +
        out_dir + "/config.json'");
  }
  return out_dir;
}

}  // namespace g4::testing
