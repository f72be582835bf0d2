// View and edit an object as YAML; Apply is a server-side apply (fieldManager kube-dashboard,
// force: the person at the page means it), so the server validates and merges.
import { useEffect, useState } from "preact/hooks";
import { parse, stringify } from "yaml";
import { type Api, type K8sObject, messageOf } from "./api.ts";

/** What an apply body should not carry: server-owned metadata and status. */
export function editable(obj: K8sObject): K8sObject {
  const {
    managedFields: _m,
    resourceVersion: _r,
    uid: _u,
    creationTimestamp: _c,
    generation: _g,
    ...metadata
  } = obj.metadata as K8sObject["metadata"] & { generation?: number };
  const { status: _s, ...rest } = obj;
  return { ...rest, metadata: metadata as K8sObject["metadata"] };
}

export function YamlEditor(props: {
  api: Api;
  path: string;
  obj: K8sObject;
  notify(m: string, t?: "ok" | "bad"): void;
}) {
  const [text, setText] = useState(() => stringify(editable(props.obj)));
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string>();
  // Follows the live object until the user starts editing.
  useEffect(() => {
    if (!dirty) setText(stringify(editable(props.obj)));
  }, [props.obj, dirty]);
  const apply = async () => {
    setError(undefined);
    try {
      parse(text);
    } catch (err) {
      setError(`Not valid YAML: ${messageOf(err)}`);
      return;
    }
    try {
      await props.api.apply(props.path, text);
      setDirty(false);
      props.notify(`Applied ${props.obj.metadata.name}`, "ok");
    } catch (err) {
      setError(messageOf(err));
      props.notify(messageOf(err), "bad");
    }
  };
  return (
    <div class="yaml">
      <div class="actions">
        <button type="button" onClick={apply} disabled={!dirty}>
          Apply
        </button>
        <button type="button" onClick={() => setDirty(false)} disabled={!dirty}>
          Revert
        </button>
        <span class="muted">{dirty ? "edited: Apply sends a server-side apply" : "live"}</span>
      </div>
      {error && (
        <div class="notice" role="alert">
          {error}
        </div>
      )}
      <textarea
        data-testid="yaml"
        spellcheck={false}
        value={text}
        onInput={(e) => {
          setText((e.target as HTMLTextAreaElement).value);
          setDirty(true);
        }}
      />
    </div>
  );
}
