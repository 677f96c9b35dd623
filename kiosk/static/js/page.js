// What every kiosk page beside the ticket screen shares: its config, the clock and centre
// name in the header, the idle reset (back to the kiosk's start screen, every field
// emptied: the page is left, nothing of the previous person stays), the hall connection
// for the printer's answers, and a ticket taken with the same result screen as the kiosk's.

import { api } from "/assets/js/lib/api.js";
import { CentreClock } from "/assets/js/lib/clock.js";
import { byId, jsonBlock, setText } from "/assets/js/lib/dom.js";
import { HallConnection, EVENTS } from "/assets/js/lib/hall.js";
import { list } from "/assets/js/lib/labels.js";
import { IdleReset } from "./idle.js";
import { TicketResult, issueTicket, newRequestId, retryStatus, showRefusal } from "./ticket-result.js";

export class KioskPage {
  constructor() {
    this.config = jsonBlock("kiosk-config");
    this.clock = new CentreClock();
    this.result = new TicketResult({ qrUrl: this.config.qr_url, printTimeoutMs: this.config.print_timeout * 1000 });
    this.idle = new IdleReset({ idleMs: this.config.idle_menu * 1000, onReset: () => this.home() });
    this.hall = null;
    this.busy = false;
    /** Called with every print.status of this station (e.g. a papers list's). */
    this.onPrintStatus = null;
    if (this.config.centre_id) this.connect(this.config.centre_id);
    else {
      api("GET", "catalog")
        .then((catalog) => this.connect(catalog.centre.id))
        .catch(() => {});
    }
    this.tick();
    setInterval(() => this.tick(), 1000);
    document.addEventListener("contextmenu", (event) => event.preventDefault());
    document.addEventListener("click", (event) => {
      if (event.target.closest("[data-action=home]")) this.home();
      else if (event.target.closest("[data-action=retry]") && this.retry) this.retry();
    });
  }

  /** Back to the kiosk's start screen (replace: this page does not stay in history). */
  home() {
    location.replace(this.config.home_url);
  }

  connect(centreId) {
    this.hall = new HallConnection({
      centreId,
      stationId: this.config.station_id,
      onSnapshot: (snapshot) => {
        this.clock.sync(snapshot.server_time);
        this.tick();
        if (snapshot.centre) {
          setText(byId("centre-name"), snapshot.centre.name);
          setText(byId("centre-sub"), snapshot.centre.subtitle || "");
        }
      },
      onEvent: (name, payload) => {
        if (name !== EVENTS.PRINT_STATUS) return;
        this.result.printStatus(payload);
        if (this.onPrintStatus) this.onPrintStatus(payload);
      },
    }).start();
  }

  tick() {
    const parts = this.clock.parts();
    setText(byId("clock-date"), `${list("kiosk.weekdays")[parts.weekday]}, ${this.clock.date()}`);
    setText(byId("clock-time"), this.clock.time());
    if (this.hall) this.hall.beat();
  }

  /** Show one screen (section id "screen-<name>") of the page. */
  show(name) {
    for (const section of document.querySelectorAll(".k-screen")) section.hidden = section.id !== `screen-${name}`;
    document.querySelector(".k-page").dataset.screen = name;
    // Not a touch: a screen that changes by itself (search results) keeps the idle wait.
    if (name === "result") this.idle.idleMs = this.config.idle_result * 1000;
    else this.idle.idleMs = this.config.idle_menu * 1000;
  }

  /** Take a ticket for a service and show it (or why not) on the shared screens. */
  async takeTicket(serviceId, serviceName, statusNode = null, requestId = newRequestId()) {
    if (this.busy) return;
    this.busy = true;
    if (statusNode) statusNode.hidden = false;
    const status = retryStatus(statusNode);
    try {
      const onRetry = () => status.retrying();
      const retryForMs = this.config.retry_for * 1000;
      const ticket = await issueTicket({ serviceId, stationId: this.config.station_id, requestId, onRetry, retryForMs });
      this.show("result");
      this.result.show(ticket);
    } catch (error) {
      // «Thử lại» is the same press: the same key (a ticket issued unseen is answered).
      this.retry = () => this.takeTicket(serviceId, serviceName, statusNode, requestId);
      showRefusal(error, serviceName);
      this.show("error");
    } finally {
      status.done();
      this.busy = false;
      if (statusNode) statusNode.hidden = true;
    }
  }
}
