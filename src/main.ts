#!/usr/bin/env bun
// The kube binary: builds the command line and hands each command to src/cli. Nothing imports this file.
import { runCli } from "./cli/index.ts";

await runCli(process.argv);
