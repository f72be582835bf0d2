// The dashboard: the login page, then the shell (navigation, namespace selector, filter, the
// current view and an object's detail panel) with keyboard navigation.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { Api } from "./api.ts";
import type { Target, ViewProps } from "./context.ts";
import { Detail } from "./detail.tsx";
import { useLive } from "./hooks.ts";
import { listPath, R } from "./resources.ts";
import { forgetToken, type Identity, redeemCode, saveToken, savedToken, takeLoginCode, whoAmI } from "./session.ts";
import { CustomView } from "./views/custom.tsx";
import { NamespacesView } from "./views/namespaces.tsx";
import { NodesView } from "./views/nodes.tsx";
import { PodsView } from "./views/pods.tsx";
import { ServicesView } from "./views/services.tsx";
import { WorkloadsView } from "./views/workloads.tsx";
import { Rows } from "./widgets.tsx";

const VIEWS = [
  { id: "workloads", title: "Workloads", key: "w" },
  { id: "pods", title: "Pods", key: "p" },
  { id: "services", title: "Services", key: "s" },
  { id: "nodes", title: "Nodes", key: "n" },
  { id: "namespaces", title: "Namespaces", key: "a" },
  { id: "custom", title: "Custom resources", key: "c" },
] as const;
type ViewId = (typeof VIEWS)[number]["id"];

function routeOf(hash: string): { view: ViewId; arg?: string } {
  const [view, arg] = hash.replace(/^#\/?/, "").split("/");
  return { view: VIEWS.some((v) => v.id === view) ? (view as ViewId) : "workloads", arg: arg || undefined };
}

export function App() {
  const [session, setSession] = useState<{ token: string; who: Identity }>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(true);
  const login = async (token: string) => {
    setBusy(true);
    try {
      const who = await whoAmI(token);
      saveToken(token);
      setMessage(undefined);
      setSession({ token, who });
    } catch (err) {
      forgetToken();
      setSession(undefined);
      setMessage((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    const code = takeLoginCode();
    if (code)
      redeemCode(code)
        .then(login)
        .catch((err) => {
          setMessage((err as Error).message);
          setBusy(false);
        });
    else {
      const saved = savedToken();
      if (saved) void login(saved);
      else setBusy(false);
    }
  }, []);
  const logout = (why?: string) => {
    forgetToken();
    setSession(undefined);
    setMessage(why);
  };
  if (!session) return <Login busy={busy} message={message} onLogin={login} />;
  return (
    <Shell
      token={session.token}
      who={session.who}
      logout={logout}
      onUnauthorized={() => logout("The server no longer accepts this token (401 Unauthorized). Log in again.")}
    />
  );
}

function Login(props: { busy: boolean; message?: string; onLogin(token: string): void }) {
  const [token, setToken] = useState("");
  return (
    <main class="login">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim()) props.onLogin(token.trim());
        }}
      >
        <h1>kube dashboard</h1>
        <p class="muted">
          Paste the cluster token (<code>DATA/token</code>, or the token in the kubeconfig) or any bearer token, such as
          a service account's from <code>kube create token NAME</code>. The page acts with that identity's permissions.
          Or run <code>kube dashboard</code> for a one-time login link.
        </p>
        {props.message && (
          <div class="notice" role="alert" data-testid="login-error">
            {props.message}
          </div>
        )}
        <textarea
          name="token"
          aria-label="Bearer token"
          placeholder="Bearer token"
          value={token}
          onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
        />
        <button type="submit" disabled={props.busy}>
          {props.busy ? "Checking…" : "Log in"}
        </button>
      </form>
    </main>
  );
}

function Shell(props: { token: string; who: Identity; logout(why?: string): void; onUnauthorized(): void }) {
  const unauthorized = useRef(props.onUnauthorized);
  unauthorized.current = props.onUnauthorized;
  const api = useMemo(() => new Api(props.token, () => unauthorized.current()), [props.token]);
  const [hash, setHash] = useState(location.hash);
  const [namespace, setNamespace] = useState(sessionStorage.getItem("kube-dashboard-ns") ?? "");
  const [filter, setFilter] = useState("");
  const [cursor, setCursor] = useState(0);
  const [detail, setDetail] = useState<Target>();
  const [toast, setToast] = useState<{ text: string; tone: "ok" | "bad"; at: number }>();
  const [help, setHelp] = useState(false);
  const filterBox = useRef<HTMLInputElement>(null);
  const route = routeOf(hash);
  const namespaces = useLive(api, listPath(R.namespaces, ""));
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  useEffect(() => setCursor(0), [route.view, route.arg, namespace, filter]);
  useEffect(() => sessionStorage.setItem("kube-dashboard-ns", namespace), [namespace]);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(undefined), toast.tone === "bad" ? 15000 : 4000);
    return () => clearTimeout(t);
  }, [toast]);
  const nav = new Rows(cursor);
  const go = (view: string, arg?: string) => {
    location.hash = `#/${view}${arg ? `/${arg}` : ""}`;
  };
  useKeys({
    filter: () => filterBox.current?.focus(),
    move: (d) => setCursor((c) => Math.max(0, Math.min(nav.opens.length - 1, c + d))),
    open: () => nav.opens[cursor]?.(),
    escape: () => (detail ? setDetail(undefined) : setHelp(false)),
    go: (key) => {
      const v = VIEWS.find((x) => x.key === key);
      if (v) go(v.id);
    },
    help: () => setHelp((h) => !h),
  });
  const viewProps: ViewProps = {
    api,
    namespace,
    filter,
    nav,
    open: setDetail,
    setNamespace: (ns) => {
      setNamespace(ns);
      go("workloads");
    },
    notify: (text, tone = "ok") => setToast({ text, tone, at: Date.now() }),
  };
  return (
    <div class="shell">
      <nav class="side">
        <div class="brand">kube</div>
        {VIEWS.map((v) => (
          <a href={`#/${v.id}`} class={route.view === v.id ? "active" : ""} title={`g ${v.key}`}>
            {v.title}
          </a>
        ))}
        <div class="who" title={props.who.groups.join(", ")}>
          {props.who.username}
          <button type="button" class="link who-out" onClick={() => props.logout()}>
            Log out
          </button>
        </div>
      </nav>
      <div class="main">
        <header class="top">
          <NamespaceInput value={namespace} set={setNamespace} options={namespaces.items.map((n) => n.metadata.name)} />
          <input
            ref={filterBox}
            class="filter"
            placeholder="Filter (/)"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === "Escape" || e.key === "Enter") (e.target as HTMLInputElement).blur();
            }}
          />
          <button type="button" class="link" onClick={() => setHelp((h) => !h)}>
            Keys (?)
          </button>
        </header>
        {toast && (
          <div class={`toast ${toast.tone}`} role="status" data-testid="toast" key={toast.at}>
            {toast.text}
          </div>
        )}
        {help && <KeyHelp />}
        <div class="content">
          {route.view === "workloads" && <WorkloadsView {...viewProps} />}
          {route.view === "pods" && <PodsView {...viewProps} />}
          {route.view === "services" && <ServicesView {...viewProps} />}
          {route.view === "nodes" && <NodesView {...viewProps} />}
          {route.view === "namespaces" && <NamespacesView {...viewProps} />}
          {route.view === "custom" && (
            <CustomView {...viewProps} crdName={route.arg} select={(name) => go("custom", name)} />
          )}
        </div>
      </div>
      {detail && <Detail {...viewProps} target={detail} close={() => setDetail(undefined)} />}
    </div>
  );
}

function KeyHelp() {
  return (
    <div class="help" data-testid="help">
      <b>j / k</b> move · <b>Enter</b> open · <b>Esc</b> close · <b>/</b> filter · <b>g w</b> workloads · <b>g p</b>{" "}
      pods · <b>g s</b> services · <b>g n</b> nodes · <b>g a</b> namespaces · <b>g c</b> custom resources · <b>?</b>{" "}
      this help
    </div>
  );
}

/**
 * The namespace box. What is typed is its own state until committed (Enter, leaving the box): bound
 * to the committed namespace alone, any re-render of the shell before Enter (a namespace's watch
 * event, a late 403 for a user who may not list namespaces) put the old value back over the text.
 */
function NamespaceInput(props: { value: string; set(ns: string): void; options: string[] }) {
  const [draft, setDraft] = useState(props.value);
  useEffect(() => setDraft(props.value), [props.value]);
  return (
    <label>
      Namespace{" "}
      <input
        data-testid="namespace"
        list="namespace-list"
        placeholder="all namespaces"
        value={draft}
        onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
        onChange={(e) => props.set((e.target as HTMLInputElement).value.trim())}
        onKeyDown={(e) => {
          if (e.key === "Enter" || e.key === "Escape") (e.target as HTMLInputElement).blur();
        }}
      />
      <datalist id="namespace-list">
        {props.options.map((n) => (
          <option value={n} />
        ))}
      </datalist>
    </label>
  );
}

/** Global keys, ignored while typing in a field or the terminal. */
function useKeys(h: {
  filter(): void;
  move(delta: number): void;
  open(): void;
  escape(): void;
  go(key: string): void;
  help(): void;
}) {
  const ref = useRef(h);
  ref.current = h;
  useEffect(() => {
    let pendingG = false;
    const on = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "Escape") return ref.current.escape();
      if (t.closest("input, textarea, select, .xterm")) return;
      const k = ref.current;
      if (pendingG) {
        pendingG = false;
        return k.go(e.key);
      }
      if (e.key === "g") pendingG = true;
      else if (e.key === "/") {
        e.preventDefault();
        k.filter();
      } else if (e.key === "j") k.move(1);
      else if (e.key === "k") k.move(-1);
      else if (e.key === "Enter") k.open();
      else if (e.key === "?") k.help();
    };
    addEventListener("keydown", on);
    return () => removeEventListener("keydown", on);
  }, []);
}
