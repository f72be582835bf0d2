// Snapshots belong to the store, which only the API server opens; the CLI reaches them here.
export {
  listSnapshots,
  restoreSnapshot,
  saveSnapshot,
  scheduledSnapshot,
  SnapshotError,
} from "../../store/sqlite/snapshot.ts";
