#include "server/payload_store.hpp"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "io/file_util.hpp"

namespace strata::server {
namespace {

Status lmdb_error(const std::string& what, int rc) {
    return Status::io_error(fmt::format("{}: {}", what, mdb_strerror(rc)), rc > 0 ? rc : 0);
}

// Aborts the transaction unless committed.
struct Txn {
    MDB_txn* t = nullptr;
    ~Txn() {
        if (t) mdb_txn_abort(t);
    }
    int commit() {
        const int rc = mdb_txn_commit(t);
        t = nullptr;
        return rc;
    }
};

}  // namespace

Result<std::unique_ptr<PayloadStore>> PayloadStore::open(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        return Status::io_error(fmt::format("cannot create {}", dir), errno);
    }
    std::unique_ptr<PayloadStore> s(new PayloadStore());
    s->dir_ = dir;
    if (int rc = mdb_env_create(&s->env_); rc != 0) return lmdb_error(dir, rc);
    struct stat st {};
    const size_t existing = ::stat((dir + "/data.mdb").c_str(), &st) == 0 ? size_t(st.st_size) : 0;
    s->map_size_ = std::max<size_t>(size_t{64} << 20, 2 * existing);
    if (int rc = mdb_env_set_mapsize(s->env_, s->map_size_); rc != 0) return lmdb_error(dir, rc);
    if (int rc = mdb_env_set_maxreaders(s->env_, 1024); rc != 0) return lmdb_error(dir, rc);
    if (int rc = mdb_env_open(s->env_, dir.c_str(), MDB_NOTLS, 0644); rc != 0) {
        return lmdb_error(fmt::format("cannot open the payload store {}", dir), rc);
    }
    Txn txn;
    if (int rc = mdb_txn_begin(s->env_, nullptr, 0, &txn.t); rc != 0) return lmdb_error(dir, rc);
    MDB_dbi dbi = 0;
    if (int rc = mdb_dbi_open(txn.t, nullptr, MDB_INTEGERKEY, &dbi); rc != 0) {
        return lmdb_error(dir, rc);
    }
    if (int rc = txn.commit(); rc != 0) return lmdb_error(dir, rc);
    s->dbi_ = dbi;
    return s;
}

PayloadStore::~PayloadStore() {
    if (env_) mdb_env_close(env_);
}

int PayloadStore::write_txn(const uint64_t* ids, const std::string_view* payloads, uint64_t n) {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    Txn txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn.t); rc != 0) return rc;
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t id = ids[i];
        MDB_val key{sizeof id, &id};
        if (payloads == nullptr || payloads[i].empty()) {
            const int rc = mdb_del(txn.t, dbi_, &key, nullptr);
            if (rc != 0 && rc != MDB_NOTFOUND) return rc;
        } else {
            MDB_val val{payloads[i].size(), const_cast<char*>(payloads[i].data())};
            if (int rc = mdb_put(txn.t, dbi_, &key, &val, 0); rc != 0) return rc;
        }
    }
    return txn.commit();
}

Status PayloadStore::write(const uint64_t* ids, const std::string_view* payloads, uint64_t n) {
    for (;;) {
        const int rc = write_txn(ids, payloads, n);
        if (rc == 0) return Status::ok();
        if (rc != MDB_MAP_FULL) return lmdb_error(dir_, rc);
        std::unique_lock<std::shared_mutex> lock(resize_mu_);  // no transaction is open now
        if (map_size_ >= (size_t{1} << 40)) return lmdb_error(dir_, rc);
        map_size_ *= 2;
        if (int r = mdb_env_set_mapsize(env_, map_size_); r != 0) return lmdb_error(dir_, r);
    }
}

Status PayloadStore::remove(const uint64_t* ids, uint64_t n) { return write(ids, nullptr, n); }

Result<bool> PayloadStore::get(uint64_t id, std::string& out) const {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    Txn txn;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn.t); rc != 0) {
        return lmdb_error(dir_, rc);
    }
    MDB_val key{sizeof id, &id};
    MDB_val val{};
    const int rc = mdb_get(txn.t, dbi_, &key, &val);
    if (rc == MDB_NOTFOUND) return false;
    if (rc != 0) return lmdb_error(dir_, rc);
    out.assign(static_cast<const char*>(val.mv_data), val.mv_size);
    return true;
}

Status PayloadStore::for_each(
    const std::function<Status(uint64_t id, std::string_view payload)>& fn) const {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    Txn txn;
    if (int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn.t); rc != 0) {
        return lmdb_error(dir_, rc);
    }
    MDB_cursor* cur = nullptr;
    if (int rc = mdb_cursor_open(txn.t, dbi_, &cur); rc != 0) return lmdb_error(dir_, rc);
    MDB_val key{}, val{};
    Status s;
    int rc = mdb_cursor_get(cur, &key, &val, MDB_FIRST);
    for (; rc == 0 && s.is_ok(); rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        uint64_t id = 0;
        if (key.mv_size != sizeof id) {
            s = Status::corruption(fmt::format("{}: a payload key of {} bytes", dir_, key.mv_size));
            break;
        }
        std::memcpy(&id, key.mv_data, sizeof id);
        s = fn(id, std::string_view(static_cast<const char*>(val.mv_data), val.mv_size));
    }
    mdb_cursor_close(cur);
    if (s.is_ok() && rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(dir_, rc);
    return s;
}

uint64_t PayloadStore::count() const {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    Txn txn;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn.t) != 0) return 0;
    MDB_stat st{};
    if (mdb_stat(txn.t, dbi_, &st) != 0) return 0;
    return st.ms_entries;
}

Status PayloadStore::copy_to(const std::string& dir) const {
    std::shared_lock<std::shared_mutex> lock(resize_mu_);
    if (int rc = mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT); rc != 0) {
        return lmdb_error(fmt::format("cannot copy the payload store to {}", dir), rc);
    }
    // mdb_env_copy2 does not sync: the copy must be durable before the snapshot is named.
    return io::fsync_file(dir + "/data.mdb");
}

}  // namespace strata::server
