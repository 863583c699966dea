// xxh3-64 wrappers over Debian's libxxhash.
#include "disk/checksum.hpp"

#include <new>

#include <xxhash.h>

namespace strata::disk {

struct Xxh3Stream::State {
    XXH3_state_t* xxh = nullptr;
};

uint64_t xxh3_64(const void* data, size_t bytes) { return XXH3_64bits(data, bytes); }

Xxh3Stream::Xxh3Stream() : state_(std::make_unique<State>()) {
    state_->xxh = XXH3_createState();
    if (state_->xxh == nullptr) throw std::bad_alloc();
    reset();
}

Xxh3Stream::~Xxh3Stream() {
    if (state_ != nullptr) XXH3_freeState(state_->xxh);
}

Xxh3Stream::Xxh3Stream(Xxh3Stream&&) noexcept = default;

Xxh3Stream& Xxh3Stream::operator=(Xxh3Stream&& other) noexcept {
    if (this != &other) {
        if (state_ != nullptr) XXH3_freeState(state_->xxh);
        state_ = std::move(other.state_);
    }
    return *this;
}

void Xxh3Stream::reset() { (void)XXH3_64bits_reset(state_->xxh); }

void Xxh3Stream::update(const void* data, size_t bytes) {
    (void)XXH3_64bits_update(state_->xxh, data, bytes);
}

uint64_t Xxh3Stream::digest() const { return XXH3_64bits_digest(state_->xxh); }

}  // namespace strata::disk
