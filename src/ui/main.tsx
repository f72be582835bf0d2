// The dashboard's entry point (bundled by src/components/apiserver/dashboard-assets.ts).
import "@xterm/xterm/css/xterm.css";
import "./styles.css";
import { render } from "preact";
import { App } from "./app.tsx";

render(<App />, document.getElementById("app")!);
