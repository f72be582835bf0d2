// A gRPC health server (grpc-js with grpc-health-check, the gRPC project's own implementation)
// for gRPC probe tests: bundled into one file by the test and run by Bun inside a container.
// The "" service answers SERVING, "down" NOT_SERVING; anything else is NotFound.
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";

const server = new Server();
new HealthImplementation({ "": "SERVING", down: "NOT_SERVING" }).addToServer(server);
server.bindAsync(`0.0.0.0:${process.env.PORT ?? "9555"}`, ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  console.log(`grpc health serving on ${port}`);
});
