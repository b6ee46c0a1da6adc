// express-session and Passport, as socket.io's docs share them with Socket.IO
// (https://socket.io/how-to/use-with-passport): the engine runs the session middlewares on the
// handshake, socket.request carries the session and the user, anonymous handshakes get a 401.
import express from "express";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { io as connect } from "socket.io-client";
import session from "express-session";
import passport from "passport";
import { Strategy as LocalStrategy } from "passport-local";

const port = process.env.PORT;
const app = express();
const httpServer = createServer(app);

const sessionMiddleware = session({
  secret: "changeit",
  resave: true,
  saveUninitialized: true,
});

app.use(sessionMiddleware);
app.use(express.urlencoded({ extended: false }));
app.use(passport.session());

app.post(
  "/login",
  passport.authenticate("local", {
    successRedirect: "/",
    failureRedirect: "/",
  }),
);

const DUMMY_USER = { id: 1, username: "john" };

passport.use(
  new LocalStrategy((username, password, done) => {
    if (username === "john" && password === "changeit") {
      return done(null, DUMMY_USER);
    } else {
      return done(null, false);
    }
  }),
);

passport.serializeUser((user, cb) => {
  cb(null, user.id);
});

passport.deserializeUser((_id, cb) => {
  cb(null, DUMMY_USER);
});

const io = new Server(httpServer);

function onlyForHandshake(middleware) {
  return (req, res, next) => {
    const isHandshake = req._query.sid === undefined;
    if (isHandshake) {
      middleware(req, res, next);
    } else {
      next();
    }
  };
}

io.engine.use(onlyForHandshake(sessionMiddleware));
io.engine.use(onlyForHandshake(passport.session()));
io.engine.use(
  onlyForHandshake((req, res, next) => {
    if (req.user) {
      next();
    } else {
      res.writeHead(401);
      res.end();
    }
  }),
);

io.on("connection", (socket) => {
  const req = socket.request;

  socket.join(`session:${req.session.id}`);
  socket.join(`user:${req.user.id}`);

  socket.on("whoami", (cb) => {
    cb(req.user.username);
  });

  socket.on("count", (cb) => {
    req.session.reload(() => {
      req.session.count = (req.session.count || 0) + 1;
      req.session.save(() => cb(req.session.count));
    });
  });
});

httpServer.listen(port, async () => {
  const url = `http://localhost:${port}`;
  const login = await fetch(`${url}/login`, {
    method: "POST",
    body: new URLSearchParams({ username: "john", password: "changeit" }),
    redirect: "manual",
  });
  const cookie = login.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const result = { login: login.status };
  for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]]) {
    const socket = connect(url, { transports, extraHeaders: { cookie } });
    result[transports.join("+")] = [await socket.emitWithAck("whoami"), await socket.emitWithAck("count")];
    result.inRoom = io.of("/").adapter.rooms.get(`user:${DUMMY_USER.id}`)?.size;
    socket.disconnect();
  }
  const anonymous = connect(url, { reconnection: false });
  result.anonymous = await new Promise((resolve) => {
    anonymous.on("connect", () => resolve("connected"));
    anonymous.on("connect_error", () => resolve("refused"));
  });
  anonymous.disconnect();
  io.close();
  console.log(JSON.stringify(result));
});
