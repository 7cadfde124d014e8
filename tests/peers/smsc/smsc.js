// A real SMSC for the tests: node-smpp's SMPP 3.4 server on loopback.
//
// Every PDU the ESME sends is printed as one JSON line on stdout, so the Python test can check
// what arrived. Delivery receipts follow the destination number: ending in 0000 -> UNDELIV,
// ending in 1111 -> no receipt at all, anything else -> DELIVRD. Commands arrive as JSON lines on
// stdin: {"cmd": "drop"} closes every connection, {"cmd": "drop_on_submit"} closes the connection
// on the next submit_sm before answering it (the message is not accepted), {"cmd": "throttle", "count": N} answers the next
// N submit_sm with ESME_RTHROTTLED, {"cmd": "refuse_binds", "value": true} rejects binds.
"use strict";
const smpp = require("smpp");
const readline = require("readline");

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, "").split("=")));
const port = Number(args.port || 2775);
const systemId = args["system-id"] || "idp";
const password = args.password || "secret";

let nextId = 1;
let throttle = 0;
let refuseBinds = false;
let dropOnSubmit = false;
const sessions = new Set();

function emit(event, data) {
  process.stdout.write(JSON.stringify(Object.assign({ event }, data || {})) + "\n");
}

function smppTime(date) {
  const p = (n) => String(n).padStart(2, "0");
  return p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) +
    p(date.getUTCHours()) + p(date.getUTCMinutes());
}

function messageText(sm) {
  if (Buffer.isBuffer(sm)) return { text: sm.toString("hex"), udh: [] };
  const udh = (sm.udh || []).map((b) => Buffer.from(b).toString("hex"));
  const text = Buffer.isBuffer(sm.message) ? sm.message.toString("hex") : sm.message;
  return { text, udh };
}

function sendReceipt(session, pdu, id) {
  const dest = pdu.destination_addr;
  if (dest.endsWith("1111") || !(pdu.registered_delivery & 1)) return;
  const stat = dest.endsWith("0000") ? "UNDELIV" : "DELIVRD";
  const now = smppTime(new Date());
  setTimeout(() => {
    if (session.closed) return;
    session.deliver_sm({
      source_addr: dest, source_addr_ton: 1, source_addr_npi: 1,
      destination_addr: pdu.source_addr, esm_class: 0x04,
      short_message: `id:${id} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} submit date:${now} done date:${now} stat:${stat} err:000 text:`,
      receipted_message_id: id, message_state: stat === "DELIVRD" ? 2 : 5,
    }, (resp) => emit("receipt_acked", { id, status: resp.command_status }));
  }, 50);
}

const server = smpp.createServer({ debug: false }, (session) => {
  sessions.add(session);
  session.on("close", () => { session.closed = true; sessions.delete(session); });
  session.on("error", () => {});
  const bind = (pdu) => {
    const ok = !refuseBinds && pdu.system_id === systemId && pdu.password === password;
    emit("bind", { command: pdu.command, system_id: pdu.system_id, ok });
    if (!ok) {
      session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      session.close();
      return;
    }
    session.send(pdu.response({ system_id: "test-smsc" }));
  };
  session.on("bind_transceiver", bind);
  session.on("bind_transmitter", bind);
  session.on("submit_sm", (pdu) => {
    const { text, udh } = messageText(pdu.short_message);
    if (dropOnSubmit) {
      dropOnSubmit = false;
      emit("submit_dropped", { destination_addr: pdu.destination_addr });
      session.socket.destroy();
      return;
    }
    if (throttle > 0) {
      throttle -= 1;
      emit("throttled", { destination_addr: pdu.destination_addr });
      session.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
      return;
    }
    const id = (nextId++).toString(16).padStart(8, "0");
    emit("submit_sm", {
      id, source_addr: pdu.source_addr, source_addr_ton: pdu.source_addr_ton,
      source_addr_npi: pdu.source_addr_npi, destination_addr: pdu.destination_addr,
      dest_addr_ton: pdu.dest_addr_ton, dest_addr_npi: pdu.dest_addr_npi,
      data_coding: pdu.data_coding, esm_class: pdu.esm_class,
      registered_delivery: pdu.registered_delivery, validity_period: pdu.validity_period,
      text, udh,
    });
    session.send(pdu.response({ message_id: id }));
    sendReceipt(session, pdu, id);
  });
  session.on("enquire_link", (pdu) => { emit("enquire_link"); session.send(pdu.response()); });
  session.on("unbind", (pdu) => { emit("unbind"); session.send(pdu.response()); session.close(); });
});

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.cmd === "drop") {
    for (const s of sessions) s.socket.destroy();
    emit("dropped", { sessions: sessions.size });
  } else if (command.cmd === "drop_on_submit") {
    dropOnSubmit = true;
  } else if (command.cmd === "throttle") {
    throttle = command.count;
  } else if (command.cmd === "refuse_binds") {
    refuseBinds = command.value;
  }
});

server.listen(port, "127.0.0.1", () => emit("listening", { port }));
