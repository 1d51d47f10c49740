#include "exchange.hpp"

#include <openssl/err.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

namespace watchpost::probes::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

std::string describe(const boost::system::error_code& ec) {
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    return buf;
  }
  return ec.message();
}

bool is_closed_by_peer(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == beast::http::error::end_of_stream || ec == beast::http::error::partial_message ||
         ec == asio::ssl::error::stream_truncated || ec == asio::error::connection_aborted;
}

exchange_outcome write_failed(const boost::system::error_code& ec, result& r) {
  if (r.connection_reused && is_closed_by_peer(ec)) return exchange_outcome::idle_closed;
  if (ec == beast::error::timeout)
    fail(r, failure_kind::timeout, "timed out sending the request");
  else
    fail(r, failure_kind::reset, "sending the request failed: " + describe(ec));
  return exchange_outcome::answered;
}

}  // namespace watchpost::probes::detail
