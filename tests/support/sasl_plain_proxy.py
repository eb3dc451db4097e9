#!/usr/bin/env python3
"""A SASL/PLAIN front for a Kafka-compatible broker that has no SASL of its
own (tansu), for the end-to-end tests: it authenticates each connection as
a SASL_PLAINTEXT broker does, then relays it byte for byte to the broker.

Per connection: ApiVersions requests are relayed (tansu lists SaslHandshake
and SaslAuthenticate); SaslHandshake v1 for PLAIN and SaslAuthenticate
v0-v2 are answered here; any other request before a successful
authentication closes the connection, as a SASL listener does. Each attempt
is appended to --log as `ok USER` or `refused USER`.

    sasl_plain_proxy.py --listen 9093 --backend 9092 --users alice:secret,bob:pw --log auth.log
"""

import argparse
import asyncio
import struct

API_VERSIONS, SASL_HANDSHAKE, SASL_AUTHENTICATE = 18, 17, 36
SASL_AUTHENTICATION_FAILED, UNSUPPORTED_SASL_MECHANISM, UNSUPPORTED_VERSION = 58, 33, 35


def uvarint(b, off):
    """An unsigned varint of b at off: (value, next offset)."""
    value = shift = 0
    while True:
        byte = b[off]
        off += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, off
        shift += 7


def put_uvarint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def body_offset(frame, flexible):
    """Where a request's body starts: after api key, version, correlation
    id, client id (a nullable int16 string in every header version) and,
    in a flexible header, its tagged fields."""
    (client_id_len,) = struct.unpack_from(">h", frame, 8)
    off = 10 + max(client_id_len, 0)
    if flexible:
        count, off = uvarint(frame, off)
        for _ in range(count):
            _tag, off = uvarint(frame, off)
            size, off = uvarint(frame, off)
            off += size
    return off


def framed(payload):
    return struct.pack(">i", len(payload)) + payload


async def read_frame(reader):
    (size,) = struct.unpack(">i", await reader.readexactly(4))
    return await reader.readexactly(size)


class Proxy:
    def __init__(self, backend, users, log):
        self.backend = backend
        self.users = users
        self.log = log

    def record(self, line):
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(line + "\n")

    def handshake(self, frame, corr):
        (length,) = struct.unpack_from(">h", frame, body_offset(frame, False))
        start = body_offset(frame, False) + 2
        mechanism = frame[start:start + length].decode("utf-8", "replace")
        error = 0 if mechanism == "PLAIN" else UNSUPPORTED_SASL_MECHANISM
        mechanisms = struct.pack(">i", 1) + struct.pack(">h", 5) + b"PLAIN"
        return framed(struct.pack(">ih", corr, error) + mechanisms), error == 0

    def authenticate(self, frame, version, corr):
        flexible = version >= 2
        off = body_offset(frame, flexible)
        if flexible:
            size, off = uvarint(frame, off)
            token = frame[off:off + size - 1]
        else:
            (size,) = struct.unpack_from(">i", frame, off)
            token = frame[off + 4:off + 4 + size]
        # PLAIN: authzid NUL authcid NUL password
        parts = token.split(b"\0")
        user = parts[1].decode("utf-8", "replace") if len(parts) == 3 else "?"
        password = parts[2].decode("utf-8", "replace") if len(parts) == 3 else None
        ok = password is not None and self.users.get(user) == password
        self.record(("ok " if ok else "refused ") + user)
        error = 0 if ok else SASL_AUTHENTICATION_FAILED
        message = None if ok else "Authentication failed: invalid username or password"
        if flexible:
            header = struct.pack(">i", corr) + put_uvarint(0)
            msg = put_uvarint(0) if message is None else put_uvarint(len(message) + 1) + message.encode()
            body = struct.pack(">h", error) + msg + put_uvarint(1) + struct.pack(">q", 0) + put_uvarint(0)
        else:
            header = struct.pack(">i", corr)
            msg = struct.pack(">h", -1) if message is None else struct.pack(">h", len(message)) + message.encode()
            body = struct.pack(">h", error) + msg + struct.pack(">i", 0)
            if version == 1:
                body += struct.pack(">q", 0)
        return framed(header + body), ok

    async def serve(self, client_reader, client_writer):
        backend_writer = None
        try:
            backend_reader, backend_writer = await asyncio.open_connection("127.0.0.1", self.backend)
            authenticated = False
            while not authenticated:
                frame = await read_frame(client_reader)
                api_key, version, corr = struct.unpack_from(">hhi", frame, 0)
                if api_key == API_VERSIONS:
                    backend_writer.write(framed(frame))
                    await backend_writer.drain()
                    client_writer.write(framed(await read_frame(backend_reader)))
                elif api_key == SASL_HANDSHAKE and version == 1:
                    answer, ok = self.handshake(frame, corr)
                    client_writer.write(answer)
                    if not ok:
                        break
                elif api_key == SASL_AUTHENTICATE and version <= 2:
                    answer, authenticated = self.authenticate(frame, version, corr)
                    client_writer.write(answer)
                    if not authenticated:
                        break
                else:
                    # a client that does not authenticate is not served
                    self.record(f"unauthenticated request {api_key}")
                    break
                await client_writer.drain()
            await client_writer.drain()
            if authenticated:
                await asyncio.gather(
                    relay(client_reader, backend_writer), relay(backend_reader, client_writer)
                )
        except (asyncio.IncompleteReadError, ConnectionError, struct.error, IndexError):
            pass
        finally:
            for w in (client_writer, backend_writer):
                if w is not None:
                    w.close()


async def relay(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--users", required=True, help="user:password,...")
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    users = dict(u.split(":", 1) for u in args.users.split(","))
    proxy = Proxy(args.backend, users, args.log)
    server = await asyncio.start_server(proxy.serve, "127.0.0.1", args.listen)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
