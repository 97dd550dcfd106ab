// Entry point (TodoMVC's app.js): the view on this page, the controller over the bridge; start.
import * as bridge from "./bridge.js";
import { createController } from "./controller.js";
import { createView } from "./view.js";

createController(bridge, (handlers) => createView(document, handlers)).start();
