#include "serve/peer.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace g4::serve {

namespace {

// "0100007F:1F90" -> 0x1F90
int port_of(const std::string& addr) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return -1;
  char* end = nullptr;
  const long p = std::strtol(addr.c_str() + colon + 1, &end, 16);
  return *end == '\0' ? int(p) : -1;
}

}  // namespace

bool proc_net_tcp_shows_close_wait(const std::string& text, int local_port, int remote_port) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, local, remote, state;
    if (!(f >> sl >> local >> remote >> state)) continue;
    if (port_of(local) != local_port || port_of(remote) != remote_port) continue;
    return state == "08";  // TCP_CLOSE_WAIT
  }
  return false;
}

bool peer_closed(int local_port, int remote_port) {
  if (local_port <= 0 || remote_port <= 0) return false;
  for (const char* path : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream f(path);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    if (proc_net_tcp_shows_close_wait(ss.str(), local_port, remote_port)) return true;
  }
  return false;
}

}  // namespace g4::serve
