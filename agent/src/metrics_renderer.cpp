#include "metrics_renderer.hpp"

namespace watchpost::agent::detail {

metrics_renderer::metrics_renderer(std::function<std::string()> render)
    : render_(std::move(render)), thread_([this] { io_.run(); }) {}

metrics_renderer::~metrics_renderer() {
  work_.reset();
  io_.stop();
  thread_.join();
}

boost::asio::awaitable<std::shared_ptr<const std::string>> metrics_renderer::text() {
  const auto now = std::chrono::steady_clock::now();
  if (!text_ || now - rendered_at_ >= std::chrono::seconds(1)) {
    text_ = std::make_shared<const std::string>(render_());
    rendered_at_ = std::chrono::steady_clock::now();  // after the render: renders never run back to back
  }
  co_return text_;
}

}  // namespace watchpost::agent::detail
