-- pandoc filter for the man pages (scripts/gen-man.sh): a table becomes a
-- list, one entry per row, its first cell the tag and the other cells
-- "header: value" paragraphs, because tbl cannot fit docs' wide tables into
-- 80 columns without warnings.
function Table(tbl)
  local s = pandoc.utils.to_simple_table(tbl)
  local items = {}
  for _, row in ipairs(s.rows) do
    local defs = {}
    for i = 2, #row do
      local head = pandoc.utils.stringify(s.headers[i] or {})
      local line = {}
      if head ~= "" then
        line = { pandoc.Emph(head .. ":"), pandoc.Space() }
      end
      for _, x in ipairs(pandoc.utils.blocks_to_inlines(row[i])) do
        table.insert(line, x)
      end
      table.insert(defs, pandoc.Plain(line))
    end
    table.insert(items, { pandoc.utils.blocks_to_inlines(row[1]), { defs } })
  end
  return pandoc.DefinitionList(items)
end
