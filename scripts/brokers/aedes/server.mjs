// server.mjs — aedes 1.2.0 as a throw-away test broker for mqttspec (see ../aedes.sh).
//
// Configured only by environment variables; every listener binds 127.0.0.1:
//   AEDES_PORT       MQTT over TCP (required)
//   AEDES_TLS_PORT   MQTT over TLS            } need AEDES_CERTS, a directory with
//   AEDES_MTLS_PORT  TLS + client certificate } ca.crt, server.crt, server.key
//   AEDES_WS_PORT    MQTT over WebSocket (any path)
//   AEDES_WSS_PORT   MQTT over WebSocket over TLS (any path)
//   AEDES_USER, AEDES_PASS  the one account. A CONNECT without a user name is let in
//                    (anonymous access on); with a user name, only this user with this
//                    password is: any other login gets CONNACK 4 ("bad user name or
//                    password", MQTT-3.2.2 Table 3.1; aedes would send 5 by default).
// Prints "READY" on stdout once every listener is bound. On SIGTERM or SIGINT it
// closes the listeners and the broker and exits 0 (forced after 2 s).
import fs from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import { timingSafeEqual } from 'node:crypto'
import { Aedes } from 'aedes'
import { WebSocketServer, createWebSocketStream } from 'ws'

const HOST = '127.0.0.1'
const env = process.env

function fail (msg) {
  console.error(`server.mjs: ${msg}`)
  process.exit(1)
}

function portOf (name) {
  const v = env[name]
  if (v === undefined || v === '') return null
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${name}=${v} is not a port`)
  return n
}

function sameSecret (given, want) {
  const a = Buffer.from(given ?? '')
  const b = Buffer.from(want)
  return a.length === b.length && timingSafeEqual(a, b)
}

const ports = {
  tcp: portOf('AEDES_PORT'),
  tls: portOf('AEDES_TLS_PORT'),
  mtls: portOf('AEDES_MTLS_PORT'),
  ws: portOf('AEDES_WS_PORT'),
  wss: portOf('AEDES_WSS_PORT')
}
if (ports.tcp === null) fail('AEDES_PORT is required')

let tlsFiles = null
if (ports.tls || ports.mtls || ports.wss) {
  const dir = env.AEDES_CERTS || fail('AEDES_CERTS is required for TLS listeners')
  const read = (f) => fs.readFileSync(path.join(dir, f))
  tlsFiles = { ca: read('ca.crt'), cert: read('server.crt'), key: read('server.key') }
}

const broker = await Aedes.createBroker()

if (env.AEDES_USER) {
  const user = env.AEDES_USER
  const pass = env.AEDES_PASS ?? ''
  broker.authenticate = (client, username, password, done) => {
    if (username === undefined || username === null) return done(null, true)
    if (username === user && sameSecret(password, pass)) return done(null, true)
    const err = new Error('bad user name or password')
    err.returnCode = 4
    done(err, false)
  }
}

function onWebSocket (server) {
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => broker.handle(createWebSocketStream(socket), req))
  return server
}

const servers = []
if (ports.tcp) servers.push([net.createServer(broker.handle), ports.tcp])
if (ports.tls) servers.push([tls.createServer(tlsFiles, broker.handle), ports.tls])
if (ports.mtls) {
  const opts = { ...tlsFiles, requestCert: true, rejectUnauthorized: true }
  servers.push([tls.createServer(opts, broker.handle), ports.mtls])
}
if (ports.ws) servers.push([onWebSocket(http.createServer()), ports.ws])
if (ports.wss) servers.push([onWebSocket(https.createServer(tlsFiles)), ports.wss])

await Promise.all(servers.map(([server, port]) => new Promise((resolve) => {
  server.once('error', (err) => fail(`listen ${HOST}:${port}: ${err.message}`))
  server.listen(port, HOST, resolve)
})))
console.log('READY')

let stopping = false
function stop () {
  if (stopping) return
  stopping = true
  setTimeout(() => process.exit(0), 2000).unref()
  for (const [server] of servers) {
    server.close()
    if (server.closeAllConnections) server.closeAllConnections()
  }
  broker.close(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
