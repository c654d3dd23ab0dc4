/// The HTML report's inline stylesheet and script (docs/reports.md, "HTML"). Constants written
/// here, never text from a report, so they are inserted as they are.
enum HTMLAssets {
    static let css = """
    :root{--pass:#2e7d32;--fail:#c62828;--error:#e65100;--unsupported:#757575;--invalid:#6a1b9a;--mistrusted:#8d6e00;--line:#ddd;--dim:#999;--bg2:#f6f7f9}
    *{box-sizing:border-box}
    [hidden]{display:none!important}
    body{margin:0 auto;max-width:1400px;padding:12px 16px 40px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#fff}
    h1{font-size:22px;margin:4px 0 6px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
    h3{font-size:14px;margin:0 0 6px;overflow-wrap:anywhere}
    code,pre{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
    pre{background:var(--bg2);padding:6px 8px;margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
    a{color:#1565c0}
    .verdict{font-weight:600;font-size:15px;margin:0 0 10px}.verdict.ok{color:var(--pass)}.verdict.bad{color:var(--fail)}
    .meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 12px}
    .meta dt{color:#555}.meta dd{margin:0;overflow-wrap:anywhere}
    .b{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap;margin:1px 2px 1px 0}
    .b.pass{background:var(--pass)}.b.fail{background:var(--fail)}.b.error{background:var(--error)}
    .b.unsupported{background:var(--unsupported)}.b.invalid{background:var(--invalid)}.b.mistrusted{background:var(--mistrusted)}.b.zero{background:#e0e0e0;color:#777}
    .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
    table{border-collapse:collapse;font-size:12.5px}
    th,td{border-bottom:1px solid var(--line);padding:3px 5px;text-align:right;white-space:nowrap;vertical-align:middle}
    th{background:var(--bg2);font-weight:600;position:sticky;top:0;z-index:1;white-space:normal;vertical-align:bottom}
    th.t,td.t{text-align:left}td.w{white-space:normal;min-width:18em;overflow-wrap:anywhere}
    #optable td:first-child,#optable th:first-child{position:sticky;left:0;background:#fff;z-index:2}
    #optable th:first-child{background:var(--bg2);z-index:3}
    #optable tbody tr:hover td{background:#fffbe6}
    td.n0{color:#ccc}td.fail{color:var(--fail);font-weight:700}td.error{color:var(--error);font-weight:700}
    td.invalid{color:var(--invalid);font-weight:700}td.mistrusted{color:var(--mistrusted);font-weight:700}td.unsupported{color:var(--unsupported)}
    td.over{color:var(--fail);font-weight:700}td.near{color:#b26a00}
    th.sort{cursor:pointer;user-select:none;text-decoration:underline dotted #aaa;text-underline-offset:3px}
    th[aria-sort=ascending]:after{content:" \\2191";color:#333}th[aria-sort=descending]:after{content:" \\2193";color:#333}
    .filters{display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center;margin:6px 0 8px}
    .filters label{font-size:13px;color:#444}.filters select,.filters input{font:inherit;font-size:13px;padding:2px 4px}
    .legend{font-size:12px;color:#555;margin:6px 0}
    .charts{display:flex;flex-wrap:wrap;gap:12px 28px}
    .chart{overflow-x:auto;max-width:100%}.chart svg{display:block;height:auto}.chart.fit svg{max-width:100%}
    svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    .case{border:1px solid var(--line);border-left:4px solid var(--fail);border-radius:4px;padding:8px 10px;margin:10px 0;background:#fff}
    .case.error{border-left-color:var(--error)}.case.invalid{border-left-color:var(--invalid)}.case.mistrusted{border-left-color:var(--mistrusted)}
    .case dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:6px 0;font-size:13px}
    .case dt{color:#555}.case dd{margin:0;overflow-wrap:anywhere}
    .case table{margin:6px 0}.case .label{font-size:12px;color:#555;margin-top:6px}
    .be{font-size:12px;color:#555;background:var(--bg2);padding:0 5px;border-radius:3px}
    details>summary{cursor:pointer;margin:6px 0}
    footer{margin-top:30px;color:#777;font-size:12px}
    nav{font-size:13px;margin:8px 0}nav a{margin-right:12px}
    @media (max-width:700px){body{padding:8px 8px 30px;font-size:13px}h1{font-size:19px}
      .meta,.case dl{grid-template-columns:1fr}.meta dt,.case dt{font-weight:600;margin-top:4px}}
    """

    /// Sorting by a header (click or Enter) and filtering by status, backend, tag and text. The
    /// page reads the same without it: the filters stay hidden and the table keeps its order.
    static let js = """
    (function(){
    var $=function(s){return Array.prototype.slice.call(document.querySelectorAll(s));};
    var box=document.getElementById('filters');
    if(box){box.hidden=false;
    var st=document.getElementById('f-status'),be=document.getElementById('f-backend'),
        tg=document.getElementById('f-tag'),tx=document.getElementById('f-text'),n=document.getElementById('f-count');
    var ok=function(el){
      var s=st.value,b=be.value,t=tg.value,q=tx.value.trim().toLowerCase(),d=el.dataset;
      if(b&&d.backend!==b)return false;
      if(s){var ss=(d.status||'').split(' ');
        if(s==='notpass'?ss.every(function(x){return x==='pass';}):ss.indexOf(s)<0)return false;}
      if(t&&('|'+(d.tags||'')+'|').indexOf('|'+t+'|')<0)return false;
      return !q||el.textContent.toLowerCase().indexOf(q)>=0;};
    var apply=function(){
      var rows=$('#optable tbody tr'),k=0;
      rows.forEach(function(r){var m=ok(r);r.hidden=!m;if(m)k++;});
      var cs=$('.fc'),j=0;
      cs.forEach(function(c){var m=ok(c);c.hidden=!m;if(m)j++;});
      n.textContent=k+' of '+rows.length+' op rows, '+j+' of '+cs.length+' listed cases';};
    [st,be,tg].forEach(function(e){e.addEventListener('change',apply);});
    tx.addEventListener('input',apply);apply();}
    $('table.sortable').forEach(function(t){
      var hs=t.tHead.rows[0].cells;
      Array.prototype.forEach.call(hs,function(h,i){
        if(h.dataset.nosort!==undefined)return;
        h.tabIndex=0;h.classList.add('sort');
        var go=function(){
          var asc=h.getAttribute('aria-sort')!=='ascending';
          Array.prototype.forEach.call(hs,function(x){x.removeAttribute('aria-sort');});
          h.setAttribute('aria-sort',asc?'ascending':'descending');
          var num=h.dataset.type==='num',body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
          var key=function(r){var c=r.cells[i];if(!num)return c.textContent;
            var v=c.dataset.v;return v===undefined||v===''?null:parseFloat(v);};
          var ks=rows.map(function(r,o){return {r:r,k:key(r),o:o};});
          ks.sort(function(a,b){
            if(a.k===null||b.k===null){if(a.k===b.k)return a.o-b.o;return a.k===null?1:-1;}
            var c=num?(a.k<b.k?-1:a.k>b.k?1:0):a.k.localeCompare(b.k);
            return c===0?a.o-b.o:(asc?c:-c);});
          ks.forEach(function(x){body.appendChild(x.r);});};
        h.addEventListener('click',go);
        h.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();go();}});
      });});
    })();
    """
}
