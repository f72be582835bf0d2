#!/usr/bin/env bun
// The kube binary: builds the command line and hands each command to src/cli. Nothing imports this file.
import { sizeHeapForUp } from "./cli/heap-size.ts";

// Before the CLI is loaded: `kube up` may start over with its heap sized (execve).
sizeHeapForUp(process.argv);
const { runCli } = await import("./cli/index.ts");
await runCli(process.argv);
