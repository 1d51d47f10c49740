#include "h2_peers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "webhook_receiver.hpp"

namespace watchpost::testing {

namespace {

bool accepts(std::uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// Neither server says when it listens: poll its port for up to 10 s.
void wait_listening(std::uint16_t port, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!accepts(port)) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(what + " did not listen on port " + std::to_string(port) + " within 10 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + path);
}

std::string nginx_config(const std::string& dir, std::uint16_t port, bool http2, const std::string& extra) {
  return "daemon off;\nmaster_process off;\nworker_processes 1;\nerror_log " + dir + "/error.log;\npid " +
         dir +
         "/nginx.pid;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n  "
         "client_body_temp_path " +
         dir + "/body;\n  proxy_temp_path " + dir + "/proxy;\n  fastcgi_temp_path " + dir +
         "/fastcgi;\n  uwsgi_temp_path " + dir + "/uwsgi;\n  scgi_temp_path " + dir +
         "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(port) + " ssl" +
         (http2 ? " http2" : "") + ";\n    ssl_certificate " + dir + "/cert.pem;\n    ssl_certificate_key " +
         dir + "/key.pem;\n" + extra +
         "    location = /health { default_type application/json; return 200 '{\"status\":\"ok\"}'; }\n"
         "    location = /status/503 { return 503; }\n"
         "    location / { default_type text/html; return 200 '<html><body>watchpost h2 peer</body></html>'; "
         "}\n"
         "  }\n}\n";
}

// Writes dir/nginx.conf and returns nginx's command line for it.
std::vector<std::string> nginx_arguments(const std::string& dir, std::uint16_t port, bool http2,
                                         const std::string& extra) {
  write_file(dir + "/nginx.conf", nginx_config(dir, port, http2, extra));
  return {"-p", dir, "-e", dir + "/error.log", "-c", dir + "/nginx.conf"};
}

}  // namespace

nginx_peer::nginx_peer(const std::string& nginx_binary, const std::string& dir, bool http2,
                       const std::string& extra_config)
    : port_(reserve_port()), process_(nginx_binary, nginx_arguments(dir, port_, http2, extra_config)) {
  wait_listening(port_, "nginx");
}

std::string nginx_peer::url(const std::string& path) const {
  return "https://127.0.0.1:" + std::to_string(port_) + path;
}

nghttpd_peer::nghttpd_peer(const std::string& nghttpd_binary, const std::string& dir)
    : port_(reserve_port()),
      process_(nghttpd_binary,
               {"--no-tls", "--address=127.0.0.1", "-d", dir + "/htdocs", std::to_string(port_)}) {
  wait_listening(port_, "nghttpd");
}

std::string nghttpd_peer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

}  // namespace watchpost::testing
