// Binding the status server's listening socket, with errors that say which address and why.
#pragma once

#include <stdexcept>
#include <string>

namespace orc {

// "cannot listen on 127.0.0.1:9464: Address already in use". The daemon exits 2 on it.
class ListenError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "host:port", or "[v6]:port".
std::string format_host_port(const std::string& host, int port);

struct ListeningSocket {
  int fd = -1;
  int port = 0;  // the bound port (the one picked when 0 was asked for)
};

// A non-blocking, close-on-exec listening TCP socket on host:port (an IP literal or
// "localhost"). SO_REUSEADDR only: never SO_REUSEPORT, which would let a second daemon bind
// the same port silently. Throws ListenError naming the address and the OS reason.
ListeningSocket listen_on(const std::string& host, int port);

}  // namespace orc
