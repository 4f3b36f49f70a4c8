// Reading a Kubernetes API reply (StatusOr<T, KubeError>) in a test: "ok" or the kind of
// error, and the error's message.
#pragma once

#include <string>

#include "base/status.h"
#include "kube/kube_request.h"

namespace orc::testing {

template <class T>
std::string kind_of(const StatusOr<T, KubeError>& reply) {
  if (reply.ok()) return "ok";
  switch (reply.error().kind) {
    case KubeError::Kind::kNotFound:
      return "not found";
    case KubeError::Kind::kConflict:
      return "conflict";
    case KubeError::Kind::kFailed:
      return "failed";
  }
  return "?";
}

template <class T>
std::string message_of(const StatusOr<T, KubeError>& reply) {
  return reply.ok() ? std::string() : reply.error().message;
}

template <class T>
bool retryable(const StatusOr<T, KubeError>& reply) {
  return !reply.ok() && reply.error().retryable;
}

}  // namespace orc::testing
