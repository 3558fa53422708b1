// app.js — the tutorial's ("4. Node.js 애플리케이션"), a peer for extras/bench/bench.sh.
// What differs from the tutorial, and why:
//   - host, user and password come from DB_HOST, DB_USER and DB_PASSWORD, defaulting to the tutorial's
//     values: the same image then runs against any database container, with no password written in the file;
//   - the two trailing spaces (after `res.json({` and `results[0].time`) are dropped: .editorconfig trims them.
// Everything else is as written: one shared connection, database 'myapp', port 3000 on every interface
// inside the container (who outside reaches it is decided by `docker run -p`).
const express = require('express');
const mysql = require('mysql2');

const app = express();

const connection = mysql.createConnection({
  host: process.env.DB_HOST || 'mysql-db',  // 컨테이너 이름으로 접속
  user: process.env.DB_USER || 'appuser',
  password: process.env.DB_PASSWORD || 'apppass',
  database: 'myapp'
});

app.get('/', (req, res) => {
  connection.query('SELECT NOW() as time', (err, results) => {
    if (err) {
      res.status(500).json({ error: err.message });
    } else {
      res.json({
        message: 'Connected to MySQL!',
        time: results[0].time
      });
    }
  });
});

app.listen(3000, () => {
  console.log('Server running on port 3000');
});
