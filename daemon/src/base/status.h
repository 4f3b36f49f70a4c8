// The one result type for everything that can fail, after abseil's StatusOr: a value or an
// error, never both, and [[nodiscard]] so that a failure cannot be dropped by accident.
//
// Which error style is used where (this is the only place that says so):
// - StatusOr<T, E> for every operation that can fail at run time, and Status (StatusOr<void>:
//   success or an Error) for every "ok, or why not": reading and stat()ing files
//   (source_text.h), the YAML reader (yaml_reader.h), every Cloudflare call (zone_api.h's
//   Result<T> is StatusOr<T, ApiError>, whose kind says whether retrying can help; the request
//   executor returns it from the parse of a good answer), every Kubernetes API answer (kube/:
//   StatusOr<Lease, KubeError> and StatusOr<StoredEvent, KubeError>, whose kind is what the
//   caller acts on) and the Lease's release, a reviewed plan's age and each zone's review
//   (plan_file.h), writing the plan file (plan_report.h), and the checks of leader election's
//   names (config.h).
// - Exceptions only for start-up errors that end the process with a message and status 2,
//   and for programming errors:
//   - ConfigError (config.h; also from lease_settings.h) and DesiredStateError
//     (desired_state_parser.h, desired_watch.h's read_desired_file). The parsers throw them from
//     the StatusOr they get from the layers below; past start-up, only the daemon's desired-state
//     reloads catch DesiredStateError (and keep the state in force).
//   - PlanFileError (plan_file.h): the file given to --apply-plan is not a plan document;
//     the command ends (status 2) before any request is sent.
//   - ListenError (listen_socket.h): the status server cannot bind or set up its socket.
//   - std::runtime_error from curl_global_setup(): libcurl cannot initialise.
//   - std::invalid_argument for a contract the caller broke: a chunk size of 0 (plan.h), an
//     API generation with no implementation (cloudflare_api.h). Never caught.
//   - Inside the YAML reader only: its SyntaxError (libyaml's report) and Failure, caught
//     there and returned as a Status.
// - No bool + out-parameter or string + out-parameter results for failures. (Private scanners
//   inside one parser that report only whether text matched, with no reason to give, may
//   return bool; their parser returns an optional or a StatusOr.)
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace orc {

// A failure for people: the message names what failed and why ("No such file or directory").
struct Error {
  std::string message;
  friend bool operator==(const Error&, const Error&) = default;
};

// A value of type T, or an error of type E. Constructed implicitly from either, so that a
// function returns `value` or `Error{"why"}`; E must not be convertible to T.
template <class T, class E = Error>
class [[nodiscard]] StatusOr {
  static_assert(!std::is_convertible_v<E, T> && !std::is_convertible_v<T, E>,
                "StatusOr needs distinct value and error types");

 public:
  using value_type = T;
  StatusOr(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT(implicit)
  StatusOr(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT(implicit)

  bool ok() const { return v_.index() == 0; }
  // The value; only when ok().
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  // The error; only when !ok().
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

// Success, or an error of type E.
template <class E>
class [[nodiscard]] StatusOr<void, E> {
 public:
  StatusOr() = default;                                        // success
  StatusOr(E error) : error_(std::move(error)), ok_(false) {}  // NOLINT(implicit)

  bool ok() const { return ok_; }
  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_{};
  bool ok_ = true;
};

using Status = StatusOr<void>;

inline Status ok_status() {
  return {};
}

}  // namespace orc
