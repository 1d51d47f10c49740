#include "dns_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>

namespace watchpost::testing {

namespace {

constexpr std::size_t header_size = 12;
constexpr unsigned type_a = 1;
constexpr unsigned char rcode_nxdomain = 3;

// The first question's name (lower case) and the offset just past its QTYPE and QCLASS.
struct question {
  std::string name;
  unsigned type = 0;
  std::size_t end = 0;
};

std::optional<question> parse_question(const unsigned char* p, std::size_t size) {
  if (size < header_size || p[4] != 0 || p[5] != 1) return std::nullopt;  // exactly one question
  question q;
  std::size_t at = header_size;
  while (at < size && p[at] != 0) {
    const std::size_t length = p[at];
    if (length > 63 || at + 1 + length > size) return std::nullopt;  // no compression in questions
    if (!q.name.empty()) q.name += '.';
    for (std::size_t i = 0; i < length; ++i) q.name += static_cast<char>(std::tolower(p[at + 1 + i]));
    at += 1 + length;
  }
  if (at + 5 > size) return std::nullopt;
  q.type = (p[at + 1] << 8) | p[at + 2];
  q.end = at + 5;
  return q;
}

}  // namespace

dns_server::dns_server(std::set<std::string> answered, std::set<std::string> dropped)
    : answered_(std::move(answered)), dropped_(std::move(dropped)) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error("dns_server: socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd_);
    throw std::runtime_error("dns_server: bind failed");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { serve(); });
}

dns_server::~dns_server() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

std::size_t dns_server::queries(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto found = queries_.find(name);
  return found == queries_.end() ? 0 : found->second;
}

// Polls in short slices so the destructor's stop flag is seen within 50 ms.
void dns_server::serve() {
  unsigned char buf[1500];
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    sockaddr_storage peer{};
    socklen_t peer_size = sizeof peer;
    const ssize_t n = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &peer_size);
    if (n > 0) answer(buf, static_cast<std::size_t>(n), &peer, peer_size);
  }
}

void dns_server::answer(const unsigned char* query, std::size_t size, const void* peer, unsigned peer_size) {
  const auto q = parse_question(query, size);
  if (!q) return;
  {
    std::lock_guard lock(mutex_);
    ++queries_[q->name];
  }
  if (dropped_.count(q->name)) return;
  const bool known = answered_.count(q->name) > 0;
  const bool with_address = known && q->type == type_a;
  std::vector<unsigned char> out(query, query + q->end);
  out[2] =
      static_cast<unsigned char>(0x80 | (query[2] & 0x78) | 0x04 | (query[2] & 0x01));  // QR, opcode, AA, RD
  out[3] = static_cast<unsigned char>(0x80 | (known ? 0 : rcode_nxdomain));             // RA, RCODE
  out[6] = 0;
  out[7] = with_address ? 1 : 0;
  for (int i = 8; i < 12; ++i) out[i] = 0;  // no authority or additional records
  if (with_address)                         // name pointer to the question, A, IN, TTL 30, 4 bytes: 127.0.0.1
    out.insert(out.end(), {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 127, 0, 0, 1});
  ::sendto(fd_, out.data(), out.size(), 0, static_cast<const sockaddr*>(peer), peer_size);
}

}  // namespace watchpost::testing
