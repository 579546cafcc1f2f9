// Imported first by the entry point, before anything can use libuv's thread pool (whose
// size is read once, on first use): room for PASSWORD_HASH_CONCURRENCY Argon2id hashes
// plus four threads for DNS lookups, files and zlib, which must never wait behind them.
// An explicit UV_THREADPOOL_SIZE wins.
const hashing = Number.parseInt(process.env.PASSWORD_HASH_CONCURRENCY ?? '', 10) || 2
process.env.UV_THREADPOOL_SIZE ??= String(hashing + 4)
