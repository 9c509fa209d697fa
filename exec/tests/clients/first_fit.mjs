// A first-fit policy over podlab's exec protocol (podlab.exec/1), in JavaScript: each pending
// pod, in arrival order, goes to the first node (by id) with room for its CPU, memory and a
// pod slot. The same algorithm as the Rust client, so the same digest.
import { createInterface } from "node:readline";

const nodes = [];            // node id -> {cpu, memory, pods} free, or undefined
const requests = new Map();  // pod id -> {cpu, memory}
const placed = new Map();    // pod id -> node id
let pending = [];

function charge(pod, node, sign) {
  const need = requests.get(pod) ?? { cpu: 0, memory: 0 };
  const free = nodes[node];
  if (!free) return;
  free.cpu -= sign * need.cpu;
  free.memory -= sign * need.memory;
  free.pods -= sign;
}

function hear(e) {
  switch (e.type) {
    case "node-added":
      nodes[e.node] = { cpu: e.allocatable.cpu, memory: e.allocatable.memory, pods: e.max_pods };
      break;
    case "pod-added":
      requests.set(e.pod, { cpu: e.requests.cpu, memory: e.requests.memory });
      if (e.node === undefined) pending.push(e.pod);
      break;
    case "bound":
      if (placed.get(e.pod) !== e.node) { placed.set(e.pod, e.node); charge(e.pod, e.node, 1); }
      break;
    case "bind-refused":
      if (placed.delete(e.pod)) charge(e.pod, e.node, -1);
      pending.push(e.pod);
      break;
    case "ended":
      if (placed.delete(e.pod)) charge(e.pod, e.node, -1);
      requests.delete(e.pod);
      break;
    case "pod-deleted":
      pending = pending.filter((p) => p !== e.pod);
      break;
  }
}

function decide(events) {
  for (const e of events) hear(e);
  const actions = [];
  const waiting = [];
  for (const pod of pending) {
    const need = requests.get(pod);
    const node = nodes.findIndex((f) => f && f.cpu >= need.cpu && f.memory >= need.memory && f.pods >= 1);
    if (node < 0) { waiting.push(pod); continue; }
    placed.set(pod, node);
    charge(pod, node, 1);
    actions.push({ type: "bind", pod, node });
  }
  pending = waiting;
  return { type: "actions", actions, sleep: pending.length === 0 };
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const message = JSON.parse(line);
  let answer;
  if (message.type === "hello") {
    if (message.protocol !== 1) throw new Error(`podlab speaks protocol ${message.protocol}`);
    answer = { type: "hello", protocol: 1, name: "first-fit.mjs" };
  } else {
    answer = decide(message.events);
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
}
