/**
 * Imported first by the CLI entry point, before anything touches libuv's threadpool (which is sized
 * once, on first use). argon2 hashes run on that pool; the bounded queue in PasswordHasher keeps them
 * to one per core, and these extra threads stay free for DNS, fs and crypto so hashing cannot
 * starve other I/O. An operator's own UV_THREADPOOL_SIZE wins.
 */
import { availableParallelism } from "node:os";

if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(4, availableParallelism() + 4));
