// The one error every patch engine throws. The API server turns it into a Status:
// 400 BadRequest for malformed patches, 422 for patches that are well formed but
// cannot be applied (failed json-patch `test`, missing path, list of lists),
// 409 Conflict for server-side apply conflicts with another field manager.

/** A cause as Kubernetes lists it in Status.details.causes. */
export interface PatchCause {
  type: string;
  message: string;
  field: string;
}

export class PatchError extends Error {
  readonly code: 400 | 409 | 413 | 422;
  readonly causes?: PatchCause[];

  constructor(code: 400 | 409 | 413 | 422, message: string, causes?: PatchCause[]) {
    super(message);
    this.name = "PatchError";
    this.code = code;
    if (causes) this.causes = causes;
  }
}

export const badRequest = (message: string): PatchError => new PatchError(400, message);
export const unprocessable = (message: string): PatchError => new PatchError(422, message);
