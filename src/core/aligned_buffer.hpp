// AlignedBuffer<T>: an owned, uninitialised, aligned array (64 B for SIMD, 4 KiB for O_DIRECT).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "core/check.hpp"

namespace strata {

template <typename T>
class AlignedBuffer {
    static_assert(std::is_trivially_copyable_v<T>, "AlignedBuffer holds plain data only");

  public:
    AlignedBuffer() = default;
    /// Allocates `count` elements aligned to `alignment_bytes` (a power of two, at least
    /// alignof(T)). Contents are uninitialised. Throws std::bad_alloc like operator new.
    explicit AlignedBuffer(size_t count, size_t alignment_bytes = 64) {
        reset(count, alignment_bytes);
    }
    AlignedBuffer(const AlignedBuffer&) = delete;
    AlignedBuffer& operator=(const AlignedBuffer&) = delete;
    AlignedBuffer(AlignedBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    AlignedBuffer& operator=(AlignedBuffer&& other) noexcept {
        if (this != &other) {
            std::free(data_);
            data_ = std::exchange(other.data_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    ~AlignedBuffer() { std::free(data_); }

    void reset(size_t count, size_t alignment_bytes = 64) {
        STRATA_CHECK(alignment_bytes >= alignof(T) &&
                     (alignment_bytes & (alignment_bytes - 1)) == 0);
        std::free(data_);
        data_ = nullptr;
        size_ = 0;
        if (count == 0) return;
        size_t bytes = count * sizeof(T);
        bytes = (bytes + alignment_bytes - 1) / alignment_bytes * alignment_bytes;
        void* p = std::aligned_alloc(alignment_bytes, bytes);
        if (p == nullptr) throw std::bad_alloc();
        data_ = static_cast<T*>(p);
        size_ = count;
    }
    void fill_zero() {
        if (data_ != nullptr) std::memset(static_cast<void*>(data_), 0, size_ * sizeof(T));
    }

    T* data() { return data_; }
    const T* data() const { return data_; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }

  private:
    T* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace strata
