#include "server/payload_store.hpp"

#include <lmdb.h>
#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

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
    // Address space only: the file grows with the data.
    if (int rc = mdb_env_set_mapsize(s->env_, size_t{1} << 40); rc != 0) return lmdb_error(dir, rc);
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

Status PayloadStore::write(const uint64_t* ids, const std::string_view* payloads, uint64_t n) {
    Txn txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn.t); rc != 0) return lmdb_error(dir_, rc);
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t id = ids[i];
        MDB_val key{sizeof id, &id};
        if (payloads[i].empty()) {
            const int rc = mdb_del(txn.t, dbi_, &key, nullptr);
            if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(dir_, rc);
        } else {
            MDB_val val{payloads[i].size(), const_cast<char*>(payloads[i].data())};
            if (int rc = mdb_put(txn.t, dbi_, &key, &val, 0); rc != 0) return lmdb_error(dir_, rc);
        }
    }
    if (int rc = txn.commit(); rc != 0) return lmdb_error(dir_, rc);
    return Status::ok();
}

Status PayloadStore::remove(const uint64_t* ids, uint64_t n) {
    Txn txn;
    if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn.t); rc != 0) return lmdb_error(dir_, rc);
    for (uint64_t i = 0; i < n; ++i) {
        uint64_t id = ids[i];
        MDB_val key{sizeof id, &id};
        const int rc = mdb_del(txn.t, dbi_, &key, nullptr);
        if (rc != 0 && rc != MDB_NOTFOUND) return lmdb_error(dir_, rc);
    }
    if (int rc = txn.commit(); rc != 0) return lmdb_error(dir_, rc);
    return Status::ok();
}

Result<bool> PayloadStore::get(uint64_t id, std::string& out) const {
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

uint64_t PayloadStore::count() const {
    Txn txn;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn.t) != 0) return 0;
    MDB_stat st{};
    if (mdb_stat(txn.t, dbi_, &st) != 0) return 0;
    return st.ms_entries;
}

Status PayloadStore::copy_to(const std::string& dir) const {
    if (int rc = mdb_env_copy2(env_, dir.c_str(), MDB_CP_COMPACT); rc != 0) {
        return lmdb_error(fmt::format("cannot copy the payload store to {}", dir), rc);
    }
    return Status::ok();
}

}  // namespace strata::server
