// Entry for the socket.io client bundle: exposes `io` for static/js/live.js.
import { io } from "socket.io-client";
window.io = io;
