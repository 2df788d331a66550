// Whether an HTTP client has closed its connection while its request is still being worked on.
// A streaming reply notices at its next write; a plain reply writes nothing until the generation
// ends, and httplib 0.11 gives a handler no socket to watch. On Linux the connection's state is in
// /proc/net/tcp and tcp6: CLOSE_WAIT once the peer sent its FIN (closed, or its process died).
#pragma once

#include <string>

namespace g4::serve {

// True when the connection between these ports is known to be closed by the peer; false when it is
// open or cannot be told (no /proc, no such entry).
bool peer_closed(int local_port, int remote_port);

// The state column parsing, for tests: does this /proc/net/tcp text show the connection in CLOSE_WAIT?
bool proc_net_tcp_shows_close_wait(const std::string& text, int local_port, int remote_port);

}  // namespace g4::serve
