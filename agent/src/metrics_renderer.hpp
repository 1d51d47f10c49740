#pragma once
// Renders /metrics on its own thread, so a scrape of tens of MB never stalls the control thread
// (signals, webhook dispatch, /healthz), at most once per second. The thread runs one render at a
// time: a scraper that arrives during a render queues behind it and then finds that text fresh,
// so concurrent scrapers share one rendering.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace watchpost::agent::detail {

class metrics_renderer {
 public:
  explicit metrics_renderer(std::function<std::string()> render);
  // Joins the thread; what is still queued on it (suspended scrapers) is destroyed with it.
  ~metrics_renderer();
  boost::asio::io_context::executor_type executor() { return io_.get_executor(); }
  // To be co_spawned on executor(): the current text, rendered if a second old.
  boost::asio::awaitable<std::shared_ptr<const std::string>> text();

 private:
  std::function<std::string()> render_;
  std::shared_ptr<const std::string> text_;  // render thread only, as is rendered_at_
  std::chrono::steady_clock::time_point rendered_at_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
};

}  // namespace watchpost::agent::detail
