// Failing together: a rank that met an error before a collective must not leave the others
// waiting in it. Every rank reports its error (or none) at an agreement point, and when any
// failed, every rank throws the same one, so all exit with one code and one message.
#pragma once

#include <exception>

#include "core/error.h"
#include "dist/communicator.h"

namespace repro {

// A collective: when some rank passed an error, every rank throws the lowest failing rank's
// (InputError or RuntimeError, the message prefixed "rank R (HOST): " unless R is 0).
void agree_on_failure(Communicator& comm, std::exception_ptr local);

// Throws `error` as a failure that every rank meets at the same point (every rank must call it
// with the same error, e.g. after comparing gathered values).
[[noreturn]] void throw_shared(const InputError& error);

// True once this process threw a shared failure: every rank exits on its own with the same code,
// and only rank 0 prints it.
bool failure_is_shared();

}  // namespace repro
