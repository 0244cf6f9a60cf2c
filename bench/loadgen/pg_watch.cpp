#include "pg_watch.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <stdexcept>

namespace boltauth::bench {

PgWatch::PgWatch(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    const std::string message = conn_ == nullptr ? "out of memory" : PQerrorMessage(conn_);
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    throw std::runtime_error("--watch-pg: cannot connect: " + message);
  }
}

PgWatch::~PgWatch() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::optional<PgSample> PgWatch::sample() {
  PGresult* r = PQexec(conn_, kPgSampleSql);
  std::optional<PgSample> out;
  if (r != nullptr && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && PQnfields(r) == 10) {
    const char* values[10];
    for (int i = 0; i < 10; ++i) values[i] = PQgetisnull(r, 0, i) ? nullptr : PQgetvalue(r, 0, i);
    out = parse_pg_sample(values);
  }
  if (!out) std::fprintf(stderr, "--watch-pg: sample failed: %s\n", PQerrorMessage(conn_));
  if (r != nullptr) PQclear(r);
  return out;
}

}  // namespace boltauth::bench
