#!/usr/bin/env python3
"""A small HTTP CONNECT proxy for tests (Python 3 standard library only).

Usage: connect_proxy.py --port-file F --record F [--require-auth "Basic ..."] [--connect-to HOST]

Listens on 127.0.0.1 (a free port, written to --port-file), answers `CONNECT host:port HTTP/1.1` by opening a TCP
connection to the target, replying `HTTP/1.1 200 Connection established` and relaying bytes both ways until
either side closes. Every CONNECT is recorded as one JSON line {"target", "authorization"} in --record. With
--require-auth, a request whose Proxy-Authorization differs gets `407 Proxy Authentication Required`. Any other
method gets `405`. With --connect-to, every tunnel goes to HOST (at the requested port) whatever host was asked
for, so tests can address a server by a name that does not resolve and prove the request went through the proxy.
"""
import argparse
import json
import os
import select
import socket
import socketserver
import threading

lock = threading.Lock()


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        client = self.request
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
            if len(head) > 65536:
                return
        text, _, rest = head.partition(b"\r\n\r\n")
        lines = text.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", "", ""])[:3]
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        authorization = headers.get("proxy-authorization")
        with lock, open(self.server.record, "a") as record:
            record.write(json.dumps({"method": method, "target": target, "authorization": authorization}) + "\n")
        if method != "CONNECT":
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.server.require_auth is not None and authorization != self.server.require_auth:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = target.rpartition(":")
        try:
            upstream = socket.create_connection((self.server.connect_to or host.strip("[]"), int(port)), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        sockets = [client, upstream]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 60)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is client else client).sendall(data)
        except OSError:
            return
        finally:
            upstream.close()


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--require-auth")
    parser.add_argument("--connect-to")
    arguments = parser.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.record = arguments.record
    server.require_auth = arguments.require_auth
    server.connect_to = arguments.connect_to
    with open(arguments.port_file + ".tmp", "w") as port_file:
        port_file.write(str(server.server_address[1]))
    os.rename(arguments.port_file + ".tmp", arguments.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
